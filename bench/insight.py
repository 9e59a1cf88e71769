"""Insight benchmarks on the embedded stack (moto over HTTP): AWS calls, counted with botocore hooks.

- AWS calls for a 30-day overview (with its previous 30 days), at two traffic levels: the count must
  not grow with the traffic (target ≤ 3, with the tenant's timezone read cold).
- AWS calls for one live code's funnel (target ≤ 4).
- Writes per event batch: a batch of 10 scans of one code on one day, and a mixed batch of 10 domain
  events, through the real events dispatcher: ≤ 1 UpdateItem per key (code-day, tenant-day,
  channel-day) per batch, not one per event.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from bench.common import counting, row

SIZES = {"small": {"traffic": (200, 2_000)}, "full": {"traffic": (2_000, 50_000)}}
DAYS = 60


def _records(payloads: list[dict]) -> list:
    arn = "arn:aws:sqs:us-east-1:123456789012:yutang-events"
    return [SimpleNamespace(body=json.dumps(p), message_id=str(i), receipt_handle=f"r{i}",
                            to_dict=lambda: {"eventSourceARN": arn}) for i, p in enumerate(payloads)]


def _scan(tenant_id: str, code_id: str, at: datetime, i: int) -> dict:
    return {"type": "scan", "tenant_id": tenant_id, "code_id": code_id, "channel": "poster",
            "target_id": "t1", "assigned": True, "reason": "assigned", "ref": None,
            "visitor_id": f"v{i}", "new_visitor": i % 3 == 0, "first_today": i % 2 == 0,
            "day": at.astimezone(timezone(timedelta(hours=8))).date().isoformat(),
            "wechat": True, "at": at.isoformat(), "user_id": None, "tags": [], "bot": i % 10 == 9,
            "code_tz": "Asia/Shanghai"}


def seed(tenant_id: str, code_id: str, n: int, now: datetime) -> None:
    """n scans spread over DAYS days, counted by the aggregator in batches of 10."""
    from chalicelib.analytics import aggregate

    batch = []
    for i in range(n):
        batch.append(_scan(tenant_id, code_id, now - timedelta(days=i % DAYS, minutes=i % 600), i))
        if len(batch) == 10:
            aggregate.consume(batch)
            batch = []
    if batch:
        aggregate.consume(batch)


def overview_rows(traffic: tuple[int, ...]) -> list[dict]:
    from chalicelib.analytics import insight
    from chalicelib.auth import service as auth
    from chalicelib.livecodes import service as livecodes

    rows, seen = [], []
    now = datetime.now(timezone.utc)
    for n in traffic:
        created = auth.create_tenant(f"bench insight {n}")
        tenant = created["tenant_id"]
        code = livecodes.create(tenant, {"name": "c", "channel": "poster", "targets": [
            {"kind": "url", "name": "u", "url": "https://example.com"}]})
        seed(tenant, code["id"], n, now)
        to = now.astimezone(timezone(timedelta(hours=8))).date()
        frm = (to - timedelta(days=29)).isoformat()
        auth.clear_caches()  # the tenant's timezone read cold
        with counting() as calls:
            got = insight.overview(tenant, frm, to.isoformat())
        assert got["totals"]["scans"] + got["previous"]["totals"]["scans"] > 0
        seen.append(calls.total)
        rows.append(row(f"AWS calls: 30-day overview + previous period, {n:,} scans", calls.total,
                        "calls", "<= 3", calls.total <= 3))
        auth.clear_caches()
        loaded = livecodes.load(tenant, code["id"])
        auth.clear_caches()
        with counting() as calls:
            livecodes.load(tenant, code["id"])
            insight.livecode_funnel(loaded, frm, to.isoformat(), 7)
        rows.append(row(f"AWS calls: live code funnel (30 days), {n:,} scans", calls.total,
                        "calls", "<= 4", calls.total <= 4))
        rows += _route_rows(created, code["id"], frm, to.isoformat(), n)
    rows.append(row("overview calls grow with traffic", float(seen[-1] - seen[0]), "calls", "0",
                    seen[-1] == seen[0]))
    return rows


def _route_rows(created: dict, code_id: str, frm: str, to: str, n: int) -> list[dict]:
    """The same through the HTTP routes, API key and tenant read cold (what a console pays)."""
    from chalice.test import Client

    import app as app_module
    from chalicelib.auth import service as auth

    headers = {"Authorization": f"Bearer {created['api_key']}"}
    out = []
    with Client(app_module.app) as client:
        for name, path, budget in (
                ("overview", f"/v1/analytics/overview?from={frm}&to={to}", 3),
                ("funnel", f"/v1/livecodes/{code_id}/funnel?from={frm}&to={to}", 4)):
            client.http.get(path, headers=headers)  # warm the clients
            auth.clear_caches()
            with counting() as calls:
                resp = client.http.get(path, headers=headers)
            assert resp.status_code == 200, resp.body
            out.append(row(f"AWS calls: GET {name} route, cold auth, {n:,} scans", calls.total,
                           "calls", f"<= {budget}", calls.total <= budget))
    return out


def batch_rows() -> list[dict]:
    from chalicelib import dispatcher
    from chalicelib.auth import service as auth

    tenant = auth.create_tenant("bench insight writes")["tenant_id"]
    now = datetime.now(timezone.utc)
    scans = [_scan(tenant, "benchcode", now, i * 2) for i in range(10)]  # no bots: 3 keys
    dispatcher.dispatch(_records(scans[:1]))  # warm: the tenant's timezone, clients
    for h in dispatcher.HANDLERS["scan"]:
        dispatcher._resolve(h)
    with counting() as calls:
        dispatcher.dispatch(_records(scans))
    scan_writes = calls.calls["UpdateItem"]
    base = {"tenant_id": tenant, "at": now.isoformat()}
    mixed = [
        {"type": "staff_added", **base, "user_id": "u1", "code_id": "benchcode", "target_id": "t1",
         "channel": "poster", "event_type": "joined_staff", "properties": {}},
        {"type": "customer_lost", **base, "user_id": "u2", "code_id": "benchcode",
         "event_type": "left_staff", "properties": {}},
        {"type": "message_sent", **base, "campaign_id": "c", "run_id": "r", "user_ids": ["a", "b"],
         "count": 2},
        {"type": "message_sent", **base, "campaign_id": "c", "run_id": "r", "user_ids": ["c"],
         "count": 1},
        {"type": "message_clicked", **base, "user_id": "a", "event_type": "campaign_clicked",
         "properties": {}},
        {"type": "invite_counted", **base, "task_id": "t", "participant_id": "p"},
        {"type": "reward_granted", **base, "task_id": "t", "participant_id": "p"},
        {"type": "user_event", **base, "user_id": "a", "event_type": "content_view",
         "properties": {"content_id": "ct1"}},
        {"type": "user_event", **base, "user_id": "b", "event_type": "content_view",
         "properties": {"content_id": "ct1"}},
        {"type": "group_left", **base, "code_id": "benchcode", "chat_id": "wr", "count": 2,
         "external_userids": ["x", "y"]},
    ]
    from bench.common import CallCounter

    counter = CallCounter()
    import chalicelib.analytics.aggregate as aggregate

    real = aggregate.flush
    keys_seen: list[int] = []

    def flush(deltas):
        keys_seen.append(len(deltas.keys()))
        return real(deltas)

    aggregate.flush = flush
    try:
        with counter:
            aggregate.consume([dict(p) for p in mixed])
    finally:
        aggregate.flush = real
    attributions = 1  # staff_added with a code writes the customer's AT# item once
    mixed_writes = counter.calls["UpdateItem"] - attributions
    return [
        row("writes per batch: 10 scans of one code-day (3 keys)", scan_writes, "UpdateItem",
            "<= 3 (1 per key)", scan_writes <= 3),
        row("writes per batch: 10 scans, per event", scan_writes / 10, "UpdateItem", "", None),
        row(f"writes per batch: 10 mixed domain events ({keys_seen[0]} keys)", mixed_writes,
            "UpdateItem", f"<= {keys_seen[0]} (1 per key)", mixed_writes <= keys_seen[0]),
    ]


def run(size: str) -> list[dict]:
    from tests.support import stack

    cfg = SIZES[size]
    with stack.moto_over_http():
        return overview_rows(cfg["traffic"]) + batch_rows()
