"""Per-user contact state: frequency counters and unsubscribes, read and written in bulk.

Counters live in one ``campaign_contacts`` item per user: ``d:<channel>:<day>`` and
``w:<channel>:<ISO week>`` numbers plus ``b``, the last batches that counted this user. A batch
reads its recipients' items with BatchGetItem and writes them back with BatchWriteItem (with its
outbox items), so caps cost about 1.04 calls per 25 recipients instead of one call each; ``b`` makes
a replayed batch count nobody twice. The trade-off, documented in the README: two batches of
*different* runs that read and write the same user within the same instant can both pass the cap
(a lost update), at most one message over.

Unsubscribes are rare and must never be lost to such a write, so they live apart, in 64 string-set
buckets per tenant (``campaigns`` items ``X#<bucket>``, atomic ADD/DELETE): a batch reads the
buckets it needs in one BatchGetItem, cached per container for a few seconds.
"""
from __future__ import annotations

import time
import zlib
from collections.abc import Iterable
from typing import Any

from chalicelib import aws
from chalicelib.campaigns import rules, schedule
from chalicelib.campaigns.models import Campaign, Contact

UNSUB_BUCKETS = 64
UNSUB_CACHE_SECONDS = 5.0
MARKERS = 20
_unsub_cache: dict[tuple[str, int], tuple[float, frozenset]] = {}


def _table(model: Any) -> str:
    model._get_connection()
    return model.Meta.table_name


# ---- unsubscribes -------------------------------------------------------------------------------

def bucket_of(user_id: str) -> int:
    return zlib.crc32(user_id.encode()) % UNSUB_BUCKETS


def unsub_key(bucket: int) -> str:
    return f"X#{bucket:02d}"


def set_unsubscribed(tenant_id: str, user_id: str, unsubscribed: bool) -> None:
    bucket = bucket_of(user_id)
    item = Campaign(tenant_id=tenant_id, sk=unsub_key(bucket))
    attr = Campaign.unsubscribed
    item.update(actions=[attr.add({user_id}) if unsubscribed else attr.delete({user_id})])
    _unsub_cache.pop((tenant_id, bucket), None)


def unsubscribed(tenant_id: str, user_ids: Iterable[str], max_age: float = UNSUB_CACHE_SECONDS
                 ) -> set[str]:
    """Which of these users unsubscribed (one BatchGetItem for the uncached buckets)."""
    wanted = {bucket_of(u) for u in user_ids}
    now = time.monotonic()
    missing = [b for b in wanted if (_unsub_cache.get((tenant_id, b)) or (0,))[0] <= now]
    if missing:
        table = _table(Campaign)
        keys = [{"tenant_id": {"S": tenant_id}, "sk": {"S": unsub_key(b)}} for b in missing]
        found = {b: frozenset() for b in missing}
        for item in batch_get(table, keys, ["sk", "unsubscribed"]):
            found[int(item["sk"]["S"][2:])] = frozenset(item.get("unsubscribed", {}).get("SS", []))
        for b, members in found.items():
            _unsub_cache[(tenant_id, b)] = (now + max_age, members)
    return {u for u in user_ids if u in _unsub_cache[(tenant_id, bucket_of(u))][1]}


def forget() -> None:
    _unsub_cache.clear()


# ---- counters -----------------------------------------------------------------------------------

class Counter:
    """The counters one send increments, for one channel at one moment, and the caps on them."""

    def __init__(self, channel: str, caps: rules.Caps, now: Any, tz_name: str) -> None:
        self.channel, self.caps = channel, caps
        p = schedule.periods(now, tz_name)
        self.day = rules.day_attr(channel, p.day)
        self.week = rules.week_attr(channel, p.week)
        self.stale = {(rules.week_attr if "-W" in s else rules.day_attr)(channel, s) for s in p.stale}

    def refusal(self, item: dict, marker: str) -> str | None:
        """capped_day / capped_week for a contact item (DynamoDB JSON), else None (also when this
        very batch already counted the user: a replay finishing its own work)."""
        if marker in _markers(item):
            return None
        if self.caps.per_day is not None and _n(item, self.day) >= self.caps.per_day:
            return "capped_day"
        if self.caps.per_week is not None and _n(item, self.week) >= self.caps.per_week:
            return "capped_week"
        return None

    def counted(self, item: dict, marker: str) -> dict:
        """The item after one more send (no change when ``marker`` already counted it)."""
        markers = _markers(item)
        if marker in markers:
            return item
        new = {k: v for k, v in item.items() if k not in self.stale}
        for attr in (self.day, self.week):
            new[attr] = {"N": str(_n(item, attr) + 1)}
        new["b"] = {"L": [{"S": m} for m in (markers + [marker])[-MARKERS:]]}
        return new


def _markers(item: dict) -> list[str]:
    return [m["S"] for m in item.get("b", {}).get("L", [])]


def _n(item: dict, attr: str) -> int:
    return int(item.get(attr, {}).get("N", 0))


def read(tenant_id: str, user_ids: list[str]) -> dict[str, dict]:
    """Contact items (DynamoDB JSON) by user id; a user never contacted gets a bare item."""
    table = _table(Contact)
    keys = [{"pk": {"S": Contact.key(tenant_id, u)}} for u in user_ids]
    found = {item["pk"]["S"]: item for item in batch_get(table, keys)}
    return {u: found.get(Contact.key(tenant_id, u)) or {"pk": {"S": Contact.key(tenant_id, u)}}
            for u in user_ids}


def put_request(item: dict) -> tuple[str, dict]:
    return _table(Contact), {"PutRequest": {"Item": item}}


# ---- bulk I/O -----------------------------------------------------------------------------------

def batch_get(table: str, keys: list[dict], attributes: list[str] | None = None) -> list[dict]:
    client = aws.client("dynamodb")
    out: list[dict] = []
    for i in range(0, len(keys), 100):
        request: dict[str, Any] = {"Keys": keys[i:i + 100], "ConsistentRead": True}
        if attributes:
            request["ProjectionExpression"] = ", ".join(f"#a{n}" for n in range(len(attributes)))
            request["ExpressionAttributeNames"] = {f"#a{n}": a for n, a in enumerate(attributes)}
        pending = {table: request}
        for attempt in range(8):
            answer = client.batch_get_item(RequestItems=pending)
            out.extend(answer.get("Responses", {}).get(table, []))
            pending = answer.get("UnprocessedKeys") or {}
            if not pending:
                break
            time.sleep(min(0.05 * 2 ** attempt, 1.0))
        else:
            raise RuntimeError("DynamoDB left keys unprocessed; retrying the batch later")
    return out


def batch_write(requests: list[tuple[str, dict]]) -> None:
    """BatchWriteItem in groups of 25 (any tables), retrying unprocessed items with backoff."""
    client = aws.client("dynamodb")
    for i in range(0, len(requests), 25):
        pending: dict[str, list] = {}
        for table, req in requests[i:i + 25]:
            pending.setdefault(table, []).append(req)
        for attempt in range(8):
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
            time.sleep(min(0.05 * 2 ** attempt, 1.0))
        else:
            raise RuntimeError("DynamoDB left writes unprocessed; retrying the batch later")
