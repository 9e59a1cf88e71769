"""People entering journeys, and events reaching people already in them.

An entry is one transaction: the position (``attribute_not_exists``: the same event entering
twice is one entry) with the person's re-entry lock, whose condition is the journey's rule
(never / after N days / always). In-flight positions of the person record the event (branches
read "happened since entry"), wake a ``wait_event`` waiting for it, and convert on the goal.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime

from chalicelib.journeys import catalog, positions, store
from chalicelib.journeys import steps as rules
from chalicelib.journeys.models import Journey, Position


def entry_id(epoch: int, source: str) -> str:
    """Entries sort by time; the digest makes the same event the same entry."""
    return f"{epoch:010d}.{hashlib.sha1(source.encode()).hexdigest()[:8]}"


def enter(journey: Journey, books: catalog.Catalog, user_id: str, eid: str, now: datetime,
          props: dict | None = None) -> store.Write:
    tenant_id, jid, epoch = journey.tenant_id, journey.journey_id or "", int(now.timestamp())
    version = books.version(tenant_id, jid, int(journey.version or 1))
    first = version["first"]
    pk = Position.partition(tenant_id, user_id)
    pos = Position(pk=pk, sk=Position.entry_key(jid, eid), tenant_id=tenant_id, user_id=user_id,
                   journey_id=jid, entry_id=eid, version=int(journey.version or 1), step=first,
                   status="active", path="", arms={}, seen={}, props=props or {},
                   goal=(version["goal"] or {}).get("event"), history=[], steps_run=0,
                   entered_at=epoch, rev=0)
    positions.note(pos, first, epoch, "entered")
    positions.set_due(pos, epoch)
    stats = Counter({"entered": 1, f"at:{first}": 1})
    return store.Write(tenant_id, jid, pos, None, [_lock(journey, pk, user_id, eid, epoch)], stats)


def _lock(journey: Journey, pk: str, user_id: str, eid: str, epoch: int) -> dict:
    lock = Position(pk=pk, sk=Position.lock_key(journey.journey_id or ""),
                    tenant_id=journey.tenant_id, user_id=user_id,
                    journey_id=journey.journey_id or "", entry_id=eid, last_at=epoch)
    put: dict = {"TableName": Position.table_name(), "Item": lock.serialize()}
    rule = journey.reentry or {"mode": "never"}
    if rule["mode"] == "never":
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    elif rule["mode"] == "after_days":
        put.update(ConditionExpression="attribute_not_exists(pk) OR #l <= :cut",
                   ExpressionAttributeNames={"#l": "last_at"},
                   ExpressionAttributeValues={":cut": {"N": str(epoch - rule["days"] * 86400)}})
    return {"Put": put}


def triggered(tenant_id: str, trigger: str, books: catalog.Catalog) -> list[Journey]:
    """Active journeys a trigger enters (the trigger index, then each journey's current state)."""
    found = []
    for jid in books.triggered(tenant_id, trigger):
        journey = books.journey(tenant_id, jid)
        if journey is not None and journey.status == "active":
            found.append(journey)
    return found


def in_flight(tenant_id: str, user_id: str) -> list[Position]:
    pk = Position.partition(tenant_id, user_id)
    return [p for p in Position.query(pk, consistent_read=True)
            if not Position.is_lock(p.sk) and p.status == "active"]


def on_event(pos: Position, event_type: str, epoch: int, books: catalog.Catalog
             ) -> store.Write | None:
    """The write an event makes to one in-flight position (None: nothing to record)."""
    if epoch < int(pos.entered_at or 0):
        return None
    p, stats = positions.copy(pos), Counter[str]()
    p.rev = int(pos.rev or 0) + 1
    p.seen = {**(pos.seen or {}), event_type: epoch}
    if pos.goal == event_type:
        positions.end(p, "converted", epoch, stats, f"converted: {event_type}")
        stats[f"at:{pos.step}"] -= 1
        return store.Write(p.tenant_id, p.journey_id, p, int(pos.rev or 0), stats=stats)
    if pos.phase == rules.WAITING:
        step = books.version(p.tenant_id, p.journey_id, int(p.version or 1))["steps"][p.step]
        if step["type"] == "wait_event" and step["event"] == event_type:
            p.phase = rules.GOT
            positions.set_due(p, epoch)
    return store.Write(p.tenant_id, p.journey_id, p, int(pos.rev or 0))
