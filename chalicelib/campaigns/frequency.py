"""Frequency caps: per-user counters of messages per channel, day and ISO week, read and written in
bulk.

Counters live in one ``campaign_contacts`` item per user: ``d:<channel>:<day>`` and
``w:<channel>:<ISO week>`` numbers plus ``b``, the last batches that counted this user (attribute
names from :class:`chalicelib.campaigns.models.Contact`). A batch reads its recipients' items with
BatchGetItem and writes them back with BatchWriteItem (with its outbox items), so caps cost about
1.04 calls per 25 recipients instead of one call each; ``b`` makes a replayed batch count nobody
twice. The trade-off, documented in the README: two batches of *different* runs that read and write
the same user within the same instant can both pass the cap (a lost update), at most one message
over. Unsubscribes live apart: :mod:`chalicelib.campaigns.unsubscribes`.
"""
from __future__ import annotations

from typing import Any

from chalicelib.campaigns import bulk, rules, schedule
from chalicelib.campaigns.models import Contact

MARKERS = 20


class Counter:
    """The counters one send increments, for one channel at one moment, and the caps on them."""

    def __init__(self, channel: str, caps: rules.Caps, now: Any, tz_name: str) -> None:
        self.channel, self.caps = channel, caps
        p = schedule.periods(now, tz_name)
        self.day = Contact.day_attr(channel, p.day)
        self.week = Contact.week_attr(channel, p.week)
        self.stale = {(Contact.week_attr if "-W" in s else Contact.day_attr)(channel, s)
                      for s in p.stale}

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
        new[Contact.MARKERS_ATTR] = {"L": [{"S": m} for m in (markers + [marker])[-MARKERS:]]}
        return new


def _markers(item: dict) -> list[str]:
    return [m["S"] for m in item.get(Contact.MARKERS_ATTR, {}).get("L", [])]


def _n(item: dict, attr: str) -> int:
    return int(item.get(attr, {}).get("N", 0))


def read(tenant_id: str, user_ids: list[str]) -> dict[str, dict]:
    """Contact items (DynamoDB JSON) by user id; a user never contacted gets a bare item."""
    keys = [Contact.key_dict(tenant_id, u) for u in user_ids]
    found = {item["pk"]["S"]: item for item in bulk.batch_get(Contact.table_name(), keys)}
    return {u: found.get(Contact.key(tenant_id, u)) or Contact.key_dict(tenant_id, u)
            for u in user_ids}


def put_request(item: dict) -> tuple[str, dict]:
    return Contact.table_name(), {"PutRequest": {"Item": item}}


def batch_write(requests: list[tuple[str, dict]]) -> None:
    """Counter items (and an idempotent channel's items) in BatchWriteItem calls."""
    bulk.batch_write(requests)
