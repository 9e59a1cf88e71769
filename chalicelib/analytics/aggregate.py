"""The insight aggregator: counts every domain event of one SQS batch into daily items.

A *batch* consumer (``batch=True`` in chalicelib/analytics/domain.py): it receives every payload
of the SQS batch whose type lists it, sums the counters per item key in memory, and writes each key once — one
UpdateItem (ADD) per key per batch, never one per event. Keys (table ``stats``, see
:mod:`chalicelib.analytics.models`):

- ``TD#<day>`` tenant-day, the day in the tenant's timezone: the overview's metrics and ``hNN``
  (people's scans per hour of day, for the heatmap of all codes);
- ``LC#<code>#D#<day>`` code-day, the day in the code's timezone: scan counters, per target
  ``ts_/ta_/bs_`` (scans / assigned / bot scans), ``tw_/tg_`` (企业微信 adds / group joins),
  ``cv<lag>_<target>`` (customers added that day who converted ``lag`` days later), ``hNN``;
- ``CD#<day>#<channel>`` channel-day (tenant timezone): the funnel per channel and ``codes`` (a set of
  the codes with activity);
- ``CT#<content>#D#<day>`` content-day (tenant timezone): views, clicks, favorites, shares and ``u``
  (the set of users, for unique users);
- ``RF#<day>#<campaign>#<run>`` failed sends of a campaign run that day (for the alerts).

Conversions (``order_paid`` and the ``first_message`` audience event) need the converting
customer's attribution: ``staff_added`` / ``group_joined`` with a live code write ``AT#<user>`` (the
first attribution wins); a batch with conversions reads those with one BatchGetItem and marks each
customer converted once (a conditional write per converting customer, not per event).

A key whose write fails is not retried in place (the others are done): its summed deltas are
re-queued as one ``agg_retry`` message that only this handler receives, so nothing is counted twice.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib import aws, clock
from chalicelib.analytics.models import DailyStats

log = logging.getLogger("yutang.analytics")

HANDLER = "chalicelib.analytics.aggregate:consume"
CONVERSIONS = frozenset({"order_paid", "first_message"})
MAX_LAG_DAYS = 30
CONTENT_KINDS = {"content_view": "views", "content_click": "clicks",
                 "content_favorite": "favorites", "content_share": "shares"}
_TENANT_TTL = 300.0


class Deltas:
    """Counter increments and set additions per (tenant, sort key), summed over a batch."""

    def __init__(self) -> None:
        self.add: dict[tuple[str, str], dict[str, int]] = {}
        self.sets: dict[tuple[str, str], dict[str, set[str]]] = {}

    def count(self, tenant_id: str, sk: str, counters: dict[str, int]) -> None:
        into = self.add.setdefault((tenant_id, sk), {})
        for name, value in counters.items():
            if value:
                into[name] = into.get(name, 0) + int(value)

    def put_set(self, tenant_id: str, sk: str, name: str, values: Iterable[str]) -> None:
        values = {v for v in values if v}
        if values:
            self.sets.setdefault((tenant_id, sk), {}).setdefault(name, set()).update(values)

    def keys(self) -> list[tuple[str, str]]:
        return sorted(set(self.add) | set(self.sets))

    def actions(self, key: tuple[str, str]) -> list:
        from pynamodb.expressions.operand import Path

        acts = [Path([n]).add({"N": str(v)}) for n, v in sorted(self.add.get(key, {}).items()) if v]
        acts += [Path([n]).add({"SS": sorted(v)}) for n, v in sorted(self.sets.get(key, {}).items())]
        return acts

    def as_json(self, key: tuple[str, str]) -> dict:
        return {"sk": key[1], "add": self.add.get(key, {}),
                "sets": {n: sorted(v) for n, v in self.sets.get(key, {}).items()}}


# ---- time helpers -------------------------------------------------------------------------------

def _at(p: dict) -> datetime:
    try:
        at = datetime.fromisoformat(str(p.get("at")).replace("Z", "+00:00"))
        return at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    except ValueError:
        return clock.now()


def tenant_timezone(tenant_id: str) -> str:
    """The tenant's timezone (one GetItem per tenant per container per 5 minutes)."""
    from chalicelib.auth.service import get_tenant
    from chalicelib.errors import NotFound

    try:
        return get_tenant(tenant_id, max_age=_TENANT_TTL).timezone or "Asia/Shanghai"
    except NotFound:
        return "Asia/Shanghai"


def _local(at: datetime, tz: str) -> datetime:
    return at.astimezone(ZoneInfo(tz))


def tenant_day_key(day: str) -> str:
    return f"TD#{day}"


def channel_day_key(day: str, channel: str) -> str:
    return f"CD#{day}#{channel}"


def content_day_key(content_id: str, day: str) -> str:
    return f"CT#{content_id}#D#{day}"


def attribution_key(user_id: str) -> str:
    return f"AT#{user_id}"


# ---- the handler --------------------------------------------------------------------------------

def consume(payloads: list[dict]) -> None:
    """Count one SQS batch of events; ≤ 1 UpdateItem per key touched."""
    deltas = Deltas()
    conversions: list[dict] = []
    for p in payloads:
        tenant_id = p.get("tenant_id")
        if not tenant_id:
            continue
        kind = p.get("type")
        if kind == "agg_retry":
            for d in p.get("deltas") or []:
                deltas.count(tenant_id, d["sk"], d.get("add") or {})
                for name, values in (d.get("sets") or {}).items():
                    deltas.put_set(tenant_id, d["sk"], name, values)
            continue
        tz = tenant_timezone(tenant_id)
        local = _local(_at(p), tz)
        td = tenant_day_key(local.date().isoformat())
        counter = _COUNTERS.get(str(kind))
        if counter is not None:
            counter(deltas, p, tenant_id, td, local)
        if kind in ("staff_added", "group_joined") and p.get("code_id") and p.get("user_id"):
            _attribute(p)
        if p.get("event_type") in CONVERSIONS and p.get("user_id"):
            conversions.append(p)
    if conversions:
        _convert(deltas, conversions)
    flush(deltas)


def flush(deltas: Deltas) -> int:
    """Write every key once; failed keys are re-queued as one ``agg_retry`` per tenant."""
    conn = DailyStats.table()
    failed: dict[str, list[dict]] = {}
    writes = 0
    for key in deltas.keys():  # noqa: SIM118 - Deltas is not a dict (no __iter__)
        actions = deltas.actions(key)
        if not actions:
            continue
        try:
            conn.update_item(key[0], key[1], actions=actions)
            writes += 1
        except Exception:  # noqa: BLE001 - re-queued below, the other keys are kept
            log.exception("aggregate write failed for %s %s", *key)
            failed.setdefault(key[0], []).append(deltas.as_json(key))
    if failed:
        from chalicelib.settings import get_settings

        sqs, cfg = aws.client("sqs"), get_settings()
        for tenant_id, items in failed.items():
            sqs.send_message(QueueUrl=aws.queue_url(cfg.events_queue),
                             DelaySeconds=min(900, int(cfg.event_retry_delay_seconds)),
                             MessageBody=json.dumps({"type": "agg_retry", "tenant_id": tenant_id,
                                                     "deltas": items}, ensure_ascii=False))
    return writes


# ---- per type -----------------------------------------------------------------------------------

def _code_key(p: dict, fallback_day: str) -> str | None:
    code_id = p.get("code_id")
    if not code_id:
        return None
    return DailyStats.code_day_key(code_id, p.get("code_day") or p.get("day") or fallback_day)


def _scan(deltas: Deltas, p: dict, tid: str, td: str, local: datetime) -> None:
    code_key = DailyStats.code_day_key(p["code_id"], p.get("day") or local.date().isoformat())
    target = p.get("target_id")
    channel = p.get("channel")
    cd = channel_day_key(td[3:], channel) if channel else None
    if p.get("bot"):
        deltas.count(tid, td, {"bot_scans": 1})
        deltas.count(tid, code_key, {"bot_scans": 1, **({f"bs_{target}": 1} if target else {})})
        if cd:
            deltas.count(tid, cd, {"bot_scans": 1})
        return
    code_hour = _code_hour(p, local)
    shown = int(target is not None)
    deltas.count(tid, td, {"scans": 1, "unique_visitors": int(bool(p.get("first_today"))),
                           "new_visitors": int(bool(p.get("new_visitor"))), "shown": shown,
                           f"h{local.hour:02d}": 1})
    counters = {"scans": 1, "unique_visitors": int(bool(p.get("first_today"))),
                "new_visitors": int(bool(p.get("new_visitor"))),
                "wechat_scans": int(bool(p.get("wechat"))), "assigned": int(bool(p.get("assigned"))),
                "ref_scans": int(bool(p.get("ref"))), "unavailable": int(target is None),
                "shown": shown, f"h{code_hour:02d}": 1}
    if target:
        counters[f"ts_{target}"] = 1
        counters[f"ta_{target}"] = int(bool(p.get("assigned")))
    deltas.count(tid, code_key, counters)
    if cd:
        deltas.count(tid, cd, {"scan": 1, "shown": shown})
        deltas.put_set(tid, cd, "codes", [p["code_id"]])


def _code_hour(p: dict, local: datetime) -> int:
    """The scan's hour in the code's timezone (carried as ``code_tz`` or implied by ``day``)."""
    tz = p.get("code_tz")
    if tz:
        return _local(_at(p), tz).hour
    return local.hour


def _wecom(metric: str, code_counter: str, per_target: str | None, channel_metric: str | None):
    def count(deltas: Deltas, p: dict, tid: str, td: str, local: datetime) -> None:
        deltas.count(tid, td, {metric: int(p.get("count") or 1)})
        code_key = _code_key(p, local.date().isoformat())
        if code_key:
            counters = {code_counter: int(p.get("count") or 1)}
            if per_target and p.get("target_id"):
                counters[f"{per_target}{p['target_id']}"] = 1
            deltas.count(tid, code_key, counters)
        if channel_metric and p.get("channel"):
            cd = channel_day_key(td[3:], p["channel"])
            deltas.count(tid, cd, {channel_metric: 1})
            if p.get("code_id"):
                deltas.put_set(tid, cd, "codes", [p["code_id"]])
    return count


def _simple(metric: str):
    def count(deltas: Deltas, p: dict, tid: str, td: str, local: datetime) -> None:
        deltas.count(tid, td, {metric: int(p.get("count") or 1)})
    return count


def failed_run_key(day: str, campaign_id: str, run_id: str) -> str:
    return f"RF#{day}#{campaign_id}#{run_id}"


def _failed_sends(deltas: Deltas, p: dict, tid: str, td: str, local: datetime) -> None:
    """Failed sends per campaign run and day, for the alerts (``RF#<day>#<campaign>#<run>``)."""
    n = int(p.get("count") or 1)
    deltas.count(tid, td, {"messages_failed": n})
    if p.get("campaign_id") and p.get("run_id"):
        key = failed_run_key(td[3:], p["campaign_id"], p["run_id"])
        deltas.count(tid, key, {"failed": n})
        deltas.put_set(tid, key, "name", [str(p.get("campaign_name") or "")])


def _user_event(deltas: Deltas, p: dict, tid: str, td: str, local: datetime) -> None:
    field = CONTENT_KINDS.get(str(p.get("event_type")))
    content_id = (p.get("properties") or {}).get("content_id")
    if not field or not content_id:
        return
    deltas.count(tid, td, {f"content_{field}": 1})
    key = content_day_key(str(content_id), td[3:])
    deltas.count(tid, key, {field: 1})
    deltas.put_set(tid, key, "u", [str(p.get("user_id") or "")])


_COUNTERS = {
    "scan": _scan,
    "staff_added": _wecom("staff_added", "wecom_adds", "tw_", "added"),
    "customer_lost": _wecom("customers_lost", "wecom_dels", None, None),
    "group_joined": _wecom("group_joined", "wecom_group_joins", "tg_", "added"),
    "group_left": _wecom("group_left", "wecom_group_leaves", None, None),
    "invite_counted": _simple("invites"),
    "reward_granted": _simple("rewards"),
    "message_sent": _simple("messages_sent"),
    "message_skipped": _simple("messages_skipped"),
    "message_failed": _failed_sends,
    "message_clicked": _simple("messages_clicked"),
    "order_paid": _simple("orders_paid"),
    "user_event": _user_event,
}


# ---- attribution and conversions ----------------------------------------------------------------

def _attribute(p: dict) -> None:
    """``AT#<user>``: the first live code a customer came through, and that day (code timezone)."""
    from pynamodb.expressions.operand import Path

    day = p.get("code_day") or _at(p).date().isoformat()
    conn = DailyStats.table()

    def first(name: str, value: str) -> Any:
        return Path([name]).set(Path([name]) | {"S": value})

    conn.update_item(p["tenant_id"], attribution_key(p["user_id"]), actions=[
        first("code_id", p["code_id"]), first("target_id", str(p.get("target_id") or "")),
        first("channel", str(p.get("channel") or "")), first("added_at", _at(p).isoformat()),
        first("day", day)])


def _convert(deltas: Deltas, events: list[dict]) -> None:
    """Count each attributed customer's first conversion within MAX_LAG_DAYS of their add."""
    from botocore.exceptions import ClientError

    earliest: dict[tuple[str, str], datetime] = {}
    for e in events:
        key = (e["tenant_id"], e["user_id"])
        at = _at(e)
        earliest[key] = min(at, earliest.get(key, at))
    found = _batch_get([(t, attribution_key(u)) for t, u in earliest])
    client, table = aws.client("dynamodb"), _table()
    for (tenant_id, user_id), at in earliest.items():
        item = found.get((tenant_id, attribution_key(user_id)))
        if not item or "converted_at" in item or "added_at" not in item:
            continue
        added = datetime.fromisoformat(item["added_at"]["S"])
        lag = (at - added) // timedelta(days=1)
        if lag < 0 or lag > MAX_LAG_DAYS:
            continue
        try:
            client.update_item(TableName=table, Key={"tenant_id": {"S": tenant_id},
                                                     "sk": {"S": attribution_key(user_id)}},
                               UpdateExpression="SET converted_at = :at",
                               ConditionExpression="attribute_not_exists(converted_at)",
                               ExpressionAttributeValues={":at": {"S": at.isoformat()}})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                continue
            raise
        day, target = item["day"]["S"], item.get("target_id", {}).get("S") or "-"
        deltas.count(tenant_id, DailyStats.code_day_key(item["code_id"]["S"], day),
                     {f"cv{lag}": 1, f"cv{lag}_{target}": 1})
        channel = item.get("channel", {}).get("S")
        if channel:
            tz = tenant_timezone(tenant_id)
            cday = _local(added, tz).date().isoformat()
            deltas.count(tenant_id, channel_day_key(cday, channel), {f"cv{lag}": 1})


def _table() -> str:
    DailyStats.table()  # binds the deployed (prefixed) table name
    return DailyStats.Meta.table_name


def _batch_get(keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """BatchGetItem in chunks of 100 (one call for a usual batch of ≤ 10 events)."""
    client, table = aws.client("dynamodb"), _table()
    found: dict[tuple[str, str], dict] = {}
    keys = list(dict.fromkeys(keys))
    for i in range(0, len(keys), 100):
        request: dict[str, Any] | None = {table: {
            "Keys": [{"tenant_id": {"S": t}, "sk": {"S": s}} for t, s in keys[i:i + 100]],
            "ConsistentRead": True}}
        while request:
            page = client.batch_get_item(RequestItems=request)
            for item in page.get("Responses", {}).get(table, []):
                found[(item["tenant_id"]["S"], item["sk"]["S"])] = item
            request = page.get("UnprocessedKeys") or None
    return found
