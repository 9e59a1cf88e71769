"""Content library, audience and mini-program benchmarks on the embedded stack (moto over HTTP).

- AWS calls for a 2-tag ``all`` query answering 20 items, where one tag holds half the library and
  the other 50 items, at two library sizes (the count must not grow with the library).
- That query's time against a single GetItem in the same run (ratio).
- AWS calls for a mini-program login (new and returning user) and for a behaviour event.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from bench.common import counting, per_call, row

SIZES = {"small": {"libraries": (200, 1_000), "repeat": 20},
         "full": {"libraries": (1_000, 10_000), "repeat": 100}}
SMALL_TAG = 50


def seed(tenant_id: str, n: int) -> list[str]:
    """n text items: even ones tagged "big" (n/2), 50 of those also "small"; the rest "other".
    Written with BatchWriteItem (items, postings and list sizes), as an import would."""
    from chalicelib.content.models import ContentItem as Item
    from chalicelib.content.service import new_content_id

    start = datetime.now(timezone.utc) - timedelta(days=1)
    step = max(1, (n // 2) // SMALL_TAG)
    sizes = {"T#big": 0, "T#small": 0, "T#other": 0, "Y#text": n}
    ids = []
    with Item.batch_write() as batch:
        for i in range(n):
            cid = new_content_id(start + timedelta(milliseconds=i))
            tags = ["big"] if i % 2 == 0 else ["other"]
            if i % 2 == 0 and (i // 2) % step == 0 and sizes["T#small"] < SMALL_TAG:
                tags.append("small")
            for tag in tags:
                sizes[f"T#{tag}"] += 1
            ids.append(cid)
            batch.save(Item(pk=Item.items_pk(tenant_id), sk=cid, tenant_id=tenant_id, ctype="text",
                            title=f"item {i}", body="x" * 200, tags=tags, created_at=start,
                            updated_at=start))
            for pk in [Item.tag_pk(tenant_id, t) for t in tags] + [Item.type_pk(tenant_id, "text")]:
                batch.save(Item(pk=pk, sk=cid, tags=tags, ctype="text"))
        for sk, value in sizes.items():
            batch.save(Item(pk=Item.counts_pk(tenant_id), sk=sk, n=value))
    return ids


def query_rows(n: int, repeat: int, timing: bool) -> list[dict]:
    from chalicelib.content import service
    from chalicelib.content.models import ContentItem as Item
    from chalicelib.content.query import Query
    from chalicelib.ids import new_id

    tenant_id = new_id(8)
    started = time.perf_counter()
    ids = seed(tenant_id, n)
    seeded = time.perf_counter() - started
    q = Query(tags=("big", "small"), match="all")
    service.query(tenant_id, q, 20, None)  # warm: clients, connections
    with counting() as calls:
        page = service.query(tenant_id, q, 20, None)
    assert len(page["items"]) == 20, page
    rows = [row(f"seed {n:,} items (batch writes)", seeded, "s"),
            row(f"2-tag all query, 20 items of {n:,} (big {n // 2:,} / small 50)",
                calls.total, "AWS calls", "<= 4", calls.total <= 4)]
    if timing:
        def get_one() -> None:
            Item.get(Item.items_pk(tenant_id), ids[0])

        query_s = per_call(lambda: service.query(tenant_id, q, 20, None), repeat)
        get_s = per_call(get_one, repeat)
        rows += [row(f"  query time ({n:,} items)", query_s * 1000, "ms"),
                 row("  single GetItem time", get_s * 1000, "ms"),
                 row("  query / GetItem", query_s / get_s, "ratio")]
    return rows


def mp_rows() -> list[dict]:
    from chalicelib.auth import service as auth
    from chalicelib.content import service as content
    from chalicelib.mp import service as mp

    tenant_id = auth.create_tenant("bench")["tenant_id"]
    item = content.create(tenant_id, {"type": "text", "title": "t", "body": "b",
                                      "tags": ["skincare", "new", "sale"]})
    warm = mp.login({"tenant": tenant_id, "code": "warm:0"})  # a warm container: caches filled,
    mp.content_event(tenant_id, warm["user_id"], item["id"], {"type": "view"})  # queue URL known
    with counting() as calls:
        session = mp.login({"tenant": tenant_id, "code": "newcomer:1"})
    new_calls = calls.total
    with counting() as calls:
        mp.login({"tenant": tenant_id, "code": "newcomer:2"})
    returning_calls = calls.total
    with counting() as calls:
        mp.content_event(tenant_id, session["user_id"], item["id"], {"type": "favorite"})
    event_calls = calls.total
    return [row("mp login, new user", new_calls, "AWS calls"),
            row("mp login, returning user", returning_calls, "AWS calls"),
            row("behaviour event (counter + interest tags + publish)", event_calls, "AWS calls",
                "<= 3", event_calls <= 3)]


def run(size: str) -> list[dict]:
    from devstack.fake_wechat import DEFAULT_APPID, DEFAULT_SECRET, FakeWeChat
    from tests.support import stack

    cfg = SIZES[size]
    fake = FakeWeChat()
    env = {"YUTANG_WECHAT_API_BASE": fake.start(), "YUTANG_WECHAT_APPID": DEFAULT_APPID,
           "YUTANG_WECHAT_SECRET": DEFAULT_SECRET}
    rows: list[dict] = []
    try:
        with stack.moto_over_http(env):
            for n in cfg["libraries"]:
                rows += query_rows(n, cfg["repeat"], timing=n == cfg["libraries"][-1])
            rows += mp_rows()
    finally:
        fake.stop()
    return rows
