"""Campaign fan-out benchmark on the embedded stack (moto over HTTP, as `make dev` runs it).

A campaign to N tagged users (10,000 full, 1,000 small) through the outbox channel, end to end:
``POST …/run``'s service call, then the sends queue drained into the app's SQS handler as Lambda
would (dispatch pages, recipient batches, claims with caps, outbox writes, stats) until empty.

- AWS calls per 1,000 recipients (botocore before-send hooks; SQS receive/delete included).
- Recipients/s against writing the same number of outbox items with PynamoDB batch_write (the
  floor of any fan-out that records one item per message), in the same run: the mean of one
  baseline before and one after the fan-out, so a drift of the machine during the run weighs on
  both sides. Before each timed section the heap is collected and frozen (:func:`settled`): the
  emulator's items live in this process, and a full garbage collection over them (close to a second
  at the full size) would otherwise land in one section or the other by chance.
"""
from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

from bench.common import counting, row

SIZES = {"small": 1_000, "full": 10_000}
TAG = "bench"


def seed_users(tenant_id: str, n: int) -> list[str]:
    """n users holding the tag, written with BatchWriteItem (user items and tag postings) as a
    bulk import would; the audience service reads them like any other user."""
    from chalicelib.audience.models import AudienceItem as Item
    from chalicelib.ids import new_id

    at = datetime.now(timezone.utc) - timedelta(days=1)
    ids = sorted(new_id(12) for _ in range(n))
    with Item.batch_write() as batch:
        for uid in ids:
            batch.save(Item(tenant_id=tenant_id, sk=Item.user_key(uid), user_id=uid,
                            identities={"brand_user_id": f"b-{uid}"}, interests={},
                            manual_tags={TAG}, created_at=at, first_seen_at=at,
                            last_active_at=at, event_count=0, rev=0))
            batch.save(Item(tenant_id=tenant_id, sk=Item.tag_key(TAG, uid), user_id=uid))
    return ids


def fan_out(tenant_id: str, campaign_id: str) -> tuple[str, float]:
    """Run the campaign to completion; also returns the seconds spent in dispatch pages (audience
    resolution through the audience service, page items, enqueueing)."""
    import app as app_module
    from chalicelib.campaigns import dispatch, service
    from chalicelib.settings import get_settings
    from devstack.drain import drain_once

    spent = [0.0]
    original = dispatch.dispatch_page

    def timed(msg: Any) -> None:
        started = time.perf_counter()
        try:
            original(msg)
        finally:
            spent[0] += time.perf_counter() - started

    dispatch.dispatch_page = timed
    try:
        run_id = service.run_now(tenant_id, campaign_id)
        drain_once(get_settings().sends_queue, app_module.handle_sends, max_batches=10_000)
    finally:
        dispatch.dispatch_page = original
    return run_id, spent[0]


@contextmanager
def settled():
    """A timed section that starts from a collected heap, the long-lived objects frozen."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def baseline(tenant_id: str, user_ids: list[str], run_id: str) -> float:
    from chalicelib.channels.models import OutboxItem

    now = datetime.now(timezone.utc)
    with settled():
        started = time.perf_counter()
        with OutboxItem.batch_write() as batch:
            for uid in user_ids:
                batch.save(OutboxItem(tenant_id=tenant_id, sk=OutboxItem.key("baseline", run_id, uid),
                                      campaign_id="baseline", run_id=run_id, user_id=uid,
                                      text="双11 福利 http://testserver/c/x", created_at=now))
        return time.perf_counter() - started


def run(size: str) -> list[dict]:
    from tests.support import stack

    n = SIZES[size]
    with stack.moto_over_http():
        from chalicelib.auth import service as auth
        from chalicelib.campaigns import service

        tenant_id = auth.create_tenant("bench")["tenant_id"]
        warm = auth.create_tenant("warm")["tenant_id"]
        seeded = time.perf_counter()
        users = seed_users(tenant_id, n)
        seeded = time.perf_counter() - seeded
        seed_users(warm, 20)
        body = {"name": "双11", "audience": {"tags_all": [TAG]},
                "message": {"text": "双11 福利 https://example.com/sale"}}
        fan_out(warm, service.create(warm, body)["id"])  # a warm container: clients, queue URLs
        campaign = service.create(tenant_id, body)
        before = baseline(tenant_id, users, "before")
        with counting() as calls, settled():
            started = time.perf_counter()
            run_id, resolving = fan_out(tenant_id, campaign["id"])
            elapsed = time.perf_counter() - started
        stats = service.stats(tenant_id, campaign["id"], run_id)
        floor = (before + baseline(tenant_id, users, "after")) / 2
        # The same campaign to an audience the postings cannot decide alone (an excluded tag):
        # every candidate's user item is re-checked. Its own users, so no cap is already spent.
        other = auth.create_tenant("bench-recheck")["tenant_id"]
        seed_users(other, n)
        rechecked = service.create(other, {**body, "audience": {"tags_all": [TAG],
                                                                "tags_none": ["opted-out"]}})
        with counting() as recheck_calls, settled():
            started = time.perf_counter()
            recheck_run, _ = fan_out(other, rechecked["id"])
            recheck_elapsed = time.perf_counter() - started
        recheck_sent = service.stats(other, rechecked["id"], recheck_run)["sent"]
    per_1000 = calls.total * 1000 / n
    ratio = floor / elapsed
    sending = elapsed - resolving
    exact = stats["sent"] == n and stats["pending"] == 0
    top = ", ".join(f"{k} {v}" for k, v in calls.calls.most_common())
    return [
        row(f"campaign to {n} users: sent (all, once)", stats["sent"], "msgs", f"== {n}", exact),
        row("AWS calls per 1,000 recipients (end to end)", per_1000, "calls", "<= 120",
            per_1000 <= 120),
        row("end to end recipients/s vs outbox batch_write items/s", ratio, "x",
            f">= 0.3 ({n / elapsed:.0f}/s vs {n / floor:.0f}/s)", ratio >= 0.3),
        row("  of which audience resolution + dispatch (share of time)", resolving / elapsed, "x",
            "posting Queries, page items, SendMessageBatch"),
        row("  sender stage recipients/s vs outbox batch_write items/s", floor / sending, "x",
            f"{n / sending:.0f}/s: caps, outbox, records, stats"),
        row("seeding users with batch_write", n / seeded, "users/s", top),
        row("re-checked audience (tag and excluded tag): recipients/s vs batch_write",
            floor / recheck_elapsed, "x", f"{recheck_calls.total * 1000 / n:.0f} calls per 1,000; "
            f"sent {recheck_sent}/{n}: + one user read each", recheck_sent == n),
    ]
