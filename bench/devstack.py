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
2. kill -9 during a stream of API writes: ``python -m devstack.dev`` on a fresh data directory, two
   client threads posting contents and users, SIGKILL once some hundreds were answered (full) or
   some tens (small), restart on the same data directory: every write answered 2xx must be there.
"""
from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from bench.common import row

SIZES = {"small": {"users": 2_000, "posts": 200, "moto_posts": 5, "acked": 60},
         "full": {"users": 10_000, "posts": 1_000, "moto_posts": 10, "acked": 400}}


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
            moto_transact.uninstall()  # moto's own method, measured after (its growth stays)
            try:
                gc.collect()
                rss1 = rss_mb()
                moto_times = [_post_user(client, headers, 10_000_000 + i)
                              for i in range(cfg["moto_posts"])]
                gc.collect()
                moto_growth = (rss_mb() - rss1) * 1000 / cfg["moto_posts"]
            finally:
                moto_transact.install()
    ratio = last / tenth
    return [
        row(f"RSS growth per 1,000 user POSTs, {2 * cfg['users']:,}-item table (fixed)",
            fixed_growth, "MB", f"<= 50 (measured over {len(times)} POSTs)", fixed_growth <= 50),
        row("  same with moto's own TransactWriteItems (whole-table copy)", moto_growth, "MB",
            f"scaled from {cfg['moto_posts']} POSTs; {statistics.median(moto_times) * 1000:.0f} ms "
            f"each vs {statistics.median(times) * 1000:.0f} ms fixed"),
        row(f"{n}th user POST time / 10th (CPU, medians of 20 from each)", ratio, "x", "<= 1.5",
            ratio <= 1.5),
    ]


def kill_during_writes(size: str) -> list[dict]:
    import tempfile

    from tests.e2e.conftest import DevStack
    from tests.e2e.test_durability import Writer

    cfg = SIZES[size]
    with tempfile.TemporaryDirectory() as tmp:
        stack = DevStack(Path(tmp), env={"YUTANG_TICK_SECONDS": "3600"})
        try:
            writers = [Writer(stack, f"w{n}") for n in range(2)]
            for w in writers:
                w.start()
            deadline = time.monotonic() + 300
            while (sum(len(w.contents) + len(w.users) for w in writers) < cfg["acked"]
                   and time.monotonic() < deadline):
                time.sleep(0.05)
            stack.kill9()
            for w in writers:
                w.join(timeout=30)
            started = time.perf_counter()
            stack.restart()
            restart_s = time.perf_counter() - started
            found = acked = 0
            for w in writers:
                for path, items in (("/v1/contents/", w.contents), ("/v1/users/", w.users)):
                    for item in items:
                        acked += 1
                        found += stack.request("GET", path + item["id"])[0] == 200
            replayed = "journal records replayed" in stack.run_log
        finally:
            stack.stop()
    return [
        row("kill -9 during API writes: acknowledged writes found after restart", found, "writes",
            f"== {acked} acknowledged", found == acked and acked > 0),
        row("  restart after kill -9 (journal replay included)", restart_s, "s",
            "replayed" if replayed else "no journal replayed?"),
    ]


def run(size: str) -> list[dict]:
    return transactions(size) + kill_during_writes(size)
