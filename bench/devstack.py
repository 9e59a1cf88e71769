"""The local stack (`make dev`'s embedded moto): transactional writes at table scale, and kill -9.

1. Transactional writes on a big table. N users seeded (10,000 full, 2,000 small: a user item and a
   tag posting each, so the audience table holds 2N items), then user POSTs through the HTTP API's
   handler (``chalice.test.Client``; each POST is a TransactWriteItems over the user, identity and
   posting items) against moto over HTTP, journaling to a data directory, as `make dev` runs it:
   - RSS growth of this process (client and moto in one process) per 1,000 POSTs with the fix
     (``devstack.moto_transact``), then with moto's own method, which deep-copies the table on
     each transaction: measured over a few POSTs only (each costs the whole table) and scaled to
     1,000 — labelled so;
   - the 1,000th POST's time over the 10th's (with the fix; CPU time of this process, medians of
     the twenty POSTs from the 10th and from the 1,000th, same run; small: the 200th).
2. kill -9 during a stream of API writes and an outbox campaign to 5,000 users (small: 200),
   both through the API of ``python -m devstack.dev`` on a fresh data directory: two client
   threads post contents and users while the campaign sends; SIGKILL once some hundreds of writes
   were answered (small: some tens), right after the campaign's ``POST /run`` answered; then a
   restart that kills itself mid-send (after its 80th write to the outbox table, small: 3rd;
   ``YUTANG_DEV_CRASH_AFTER_WRITES``); a restart. Every write answered 2xx must be there, and
   once the queues drained, every recipient must have exactly one outbox message
   (``tests/e2e/test_durability.py`` runs the same separately, with 300 recipients).
"""
from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from bench.common import row

SIZES = {"small": {"users": 1_000, "posts": 100, "moto_posts": 5, "acked": 40, "audience": 200,
                   "crash_after": 3},
         "full": {"users": 10_000, "posts": 1_000, "moto_posts": 2, "acked": 400,
                  "audience": 5_000, "crash_after": 80}}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _post_user(client, headers: dict, i: int) -> float:
    """CPU seconds of this process (the handler and moto's server thread) for one user POST: the
    machine is shared, and CPU time does not count the other processes' turns."""
    started = time.process_time()
    resp = client.http.post("/v1/users", headers=headers, body=json.dumps(
        {"identities": {"brand_user_id": f"bench-{i}"}, "tags": ["bench", f"t{i % 5}"]}))
    elapsed = time.process_time() - started
    if resp.status_code != 201:
        raise RuntimeError(f"user POST answered {resp.status_code}: {resp.body[:200]!r}")
    return elapsed


def transactions(size: str) -> list[dict]:
    import gc
    import tempfile

    from chalice.test import Client

    import app as app_module
    from bench.campaigns import seed_users
    from devstack import moto_transact
    from tests.support import stack

    cfg = SIZES[size]
    with tempfile.TemporaryDirectory() as tmp, stack.moto_over_http(data_dir=tmp):
        from chalicelib.auth import service as auth

        tenant = auth.create_tenant("bench-tx")
        seed_users(tenant["tenant_id"], cfg["users"])
        headers = {"Authorization": f"Bearer {tenant['api_key']}",
                   "Content-Type": "application/json"}
        with Client(app_module.app) as client:
            for i in range(5):  # warm: clients, caches
                _post_user(client, headers, -1 - i)
            gc.collect()
            rss0 = rss_mb()
            n = cfg["posts"]
            times = [_post_user(client, headers, i) for i in range(n + 19)]
            gc.collect()
            fixed_growth = (rss_mb() - rss0) * 1000 / len(times)
            tenth = statistics.median(times[9:29])
            last = statistics.median(times[n - 1:n + 19])
            from devstack import persist

            started = time.perf_counter()
            blob = persist.dump_state()  # what a snapshot does under the lock
            dump_s = time.perf_counter() - started
            items = persist.counts()["items"]
            moto_transact.uninstall()  # moto's own method, measured after (its growth stays)
            try:
                gc.collect()
                rss1 = rss_mb()
                moto_times, moto_failed = [], 0
                for i in range(cfg["moto_posts"]):
                    try:
                        moto_times.append(_post_user(client, headers, 10_000_000 + i))
                    except RuntimeError:  # a whole-table copy can outlast the client's timeout
                        moto_failed += 1
                gc.collect()
                moto_growth = (rss_mb() - rss1) * 1000 / cfg["moto_posts"]
            finally:
                moto_transact.install()
    ratio = last / tenth
    return [
        row(f"RSS growth per 1,000 user POSTs, {2 * cfg['users']:,}-item table (fixed)",
            fixed_growth, "MB", f"<= 50 (measured over {len(times)} POSTs)", fixed_growth <= 50),
        row("  same with moto's own TransactWriteItems (whole-table copy)", moto_growth, "MB",
            f"scaled from {cfg['moto_posts']} POSTs; "
            + (f"{statistics.median(moto_times) * 1000:.0f} ms CPU each" if moto_times else "")
            + (f", {moto_failed} answered 500 (moto took over the 30 s read timeout)"
               if moto_failed else "")
            + f" vs {statistics.median(times) * 1000:.0f} ms fixed"),
        row(f"{n}th user POST time / 10th (CPU, medians of 20 from each)", ratio, "x", "<= 1.5",
            ratio <= 1.5),
        row(f"snapshot cut of {items:,} items: requests wait (wall time)", dump_s * 1000, "ms",
            f"{len(blob) / 1e6:.1f} MB pickled; written and fsynced outside the lock"),
    ]


def kill_scenario(size: str) -> list[dict]:
    """`make dev` on a fresh data directory: two clients streaming content and user POSTs; once
    enough were answered, an outbox campaign to the audience started and SIGKILL right after its
    202; a restart that SIGKILLs itself after a number of outbox writes (mid-send); a restart.
    After each kill the data directory is loaded alone to count the run's outbox messages. Then
    every acknowledged write is read back and, once the queues drained, the outbox is counted per
    recipient."""
    import tempfile

    from tests.e2e.conftest import DevStack
    from tests.e2e.test_durability import (
        Writer,
        _outbox_at_kill,
        _stats,
        _users,
        outbox_per_user,
    )

    cfg = SIZES[size]
    n = cfg["audience"]
    with tempfile.TemporaryDirectory() as tmp:
        stack = DevStack(Path(tmp), extra_env={"YUTANG_TICK_SECONDS": "5",
                                                  "YUTANG_RATE_KEY_PER_SECOND": "100000"})
        try:
            users = _users(stack, "kill", n)
            status, _, raw = stack.request("POST", "/v1/campaigns", {
                "name": "kill -9", "audience": {"tags_all": ["kill"]},
                "message": {"text": "双11 福利 https://example.com/sale"}})
            campaign = json.loads(raw)["id"]
            writers = [Writer(stack, f"w{i}") for i in range(2)]
            for w in writers:
                w.start()
            deadline = time.monotonic() + 300
            while (sum(len(w.contents) + len(w.users) for w in writers) < cfg["acked"]
                   and time.monotonic() < deadline):
                time.sleep(0.05)
            run_id = json.loads(stack.request("POST", f"/v1/campaigns/{campaign}/run")[2])["run_id"]
            stack.kill9()
            for w in writers:
                w.join(timeout=30)
            at_kills = [_outbox_at_kill(stack, campaign, run_id)]
            stack.run_until_it_kills_itself(cfg["crash_after"], match="yutang-outbox")
            at_kills.append(_outbox_at_kill(stack, campaign, run_id))
            started = time.perf_counter()
            stack.restart()
            restart_s = time.perf_counter() - started
            found = acked = 0
            for w in writers:
                for path, items in (("/v1/contents/", w.contents), ("/v1/users/", w.users)):
                    for item in items:
                        acked += 1
                        found += stack.request("GET", path + item["id"])[0] == 200
            drained = time.monotonic()
            while time.monotonic() - drained < 900:
                stats = _stats(stack, campaign, run_id)
                if stats.get("sent") == n and stats.get("pending") == 0:
                    break
                time.sleep(1)
            drained = time.monotonic() - drained
            time.sleep(2)
            per_user = outbox_per_user(stack, campaign, run_id)
        finally:
            stack.stop()
    once = sum(1 for u in users if per_user.get(u) == 1)
    extra = sum(per_user.values()) - once
    return [
        row("kill -9 during API writes: acknowledged writes found after restart", found, "writes",
            f"== {acked} acknowledged", found == acked and acked > 0),
        row(f"kill -9 (x2) during a campaign to {n}: recipients with one delivery", once, "users",
            f"== {n}; outbox at the kills: {at_kills}; {extra} extra; drained {drained:.0f} s "
            "after", once == n and extra == 0 and at_kills[1] < n),
        row("  restart after kill -9 (journal replay included)", restart_s, "s", ""),
    ]


def run(size: str) -> list[dict]:
    return transactions(size) + kill_scenario(size)
