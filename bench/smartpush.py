"""Smart push benchmark on the embedded stack (moto over HTTP, as `make dev` runs it).

The same outbox campaign to N tagged users (1,000 small, 10,000 full) twice, each to its own tenant
(no cap already spent): once with one fixed content item, once as smart push over a 200-item pool
(``tags_any`` of 5 tags, ``avoid_sent_within_days: 7``), every user with interest weights on some
of the pool's tags. Both run end to end (``POST …/run``'s service call, then the sends queue
drained into the app's SQS handler) with every AWS call counted.

Target (issue 17): smart push costs at most 10% more AWS calls than the fixed item. What it adds:
the recipients' profiles (one BatchGet per 100, the user items the choice scores) and the pool (its
posting Queries and one BatchGet per 100 items, once per run and container); the recent sends it
avoids ride on the contact items the caps read and write anyway.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from bench.campaigns import SIZES, TAG, fan_out, settled
from bench.common import counting, row

POOL = 200
TOPICS = [f"topic{i:02d}" for i in range(20)]
POOL_TAGS = TOPICS[:5]


def seed_users(tenant_id: str, n: int) -> list[str]:
    """n users holding the audience tag, each with interest weights on two topics."""
    from chalicelib.audience.models import AudienceItem as Item
    from chalicelib.ids import new_id

    at = datetime.now(timezone.utc) - timedelta(days=1)
    ids = sorted(new_id(12) for _ in range(n))
    with Item.batch_write() as batch:
        for i, uid in enumerate(ids):
            interests = {TOPICS[i % 7]: 1 + i % 3, TOPICS[(i * 3) % 11]: 2}
            batch.save(Item(tenant_id=tenant_id, sk=Item.user_key(uid), user_id=uid,
                            identities={"brand_user_id": f"b-{uid}"}, interests=interests,
                            manual_tags={TAG}, created_at=at, first_seen_at=at,
                            last_active_at=at, event_count=0, rev=0))
            batch.save(Item(tenant_id=tenant_id, sk=Item.tag_key(TAG, uid), user_id=uid))
    return ids


def seed_pool(tenant_id: str) -> list[str]:
    """POOL articles, each with two of the pool's tags and one other topic."""
    from chalicelib.content import service as content

    made = []
    for i in range(POOL):
        tags = sorted({POOL_TAGS[i % 5], POOL_TAGS[(i // 5) % 5], TOPICS[5 + i % 15]})
        made.append(content.create(tenant_id, {
            "type": "article", "title": f"文章 {i}", "url": f"https://shop.example.com/a/{i}",
            "tags": tags})["id"])
    return made


def measure(tenant_id: str, message: dict, n: int) -> tuple[int, float, dict, object]:
    from chalicelib.campaigns import service

    seed_users(tenant_id, n)
    c = service.create(tenant_id, {"name": "bench", "audience": {"tags_all": [TAG]},
                                   "message": message})
    with counting() as calls, settled():
        started = time.perf_counter()
        run_id, _ = fan_out(tenant_id, c["id"])
        elapsed = time.perf_counter() - started
    return calls.total, elapsed, service.stats(tenant_id, c["id"], run_id), calls


def run(size: str) -> list[dict]:
    from tests.support import stack

    n = SIZES[size]
    with stack.moto_over_http():
        from chalicelib.auth import service as auth

        fixed_tenant = auth.create_tenant("bench-fixed")["tenant_id"]
        smart_tenant = auth.create_tenant("bench-smart")["tenant_id"]
        warm = auth.create_tenant("warm")["tenant_id"]
        one = seed_pool(fixed_tenant)[0]
        seed_pool(smart_tenant)
        seed_pool(warm)
        smart = {"pick": "best_match", "pool": {"tags_any": POOL_TAGS},
                 "avoid_sent_within_days": 7, "text": "为你推荐"}
        measure(warm, smart, 20)  # a warm container: clients, queue URLs
        fixed_calls, fixed_time, fixed_stats, _ = measure(
            fixed_tenant, {"content_id": one, "text": "为你推荐"}, n)
        smart_calls, smart_time, smart_stats, calls = measure(smart_tenant, smart, n)
    ratio = smart_calls / fixed_calls
    top = ", ".join(f"{k} {v}" for k, v in calls.calls.most_common())
    exact = smart_stats["sent"] == n and fixed_stats["sent"] == n
    return [
        row(f"smart push to {n} users over {POOL} items: sent (all, once)", smart_stats["sent"],
            "msgs", f"== {n} (fixed item: {fixed_stats['sent']})", exact),
        row("AWS calls, one fixed item (end to end)", fixed_calls, "calls",
            f"{fixed_calls * 1000 / n:.0f} per 1,000"),
        row("AWS calls, smart push (end to end)", smart_calls, "calls",
            f"{smart_calls * 1000 / n:.0f} per 1,000: {top}"),
        row("smart push AWS calls vs one fixed item", ratio, "x", "<= 1.10", ratio <= 1.10),
        row("smart push time vs one fixed item (same run)", smart_time / fixed_time, "x",
            f"{n / smart_time:.0f}/s vs {n / fixed_time:.0f}/s"),
    ]
