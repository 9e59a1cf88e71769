"""Event consumers of journeys: events enter people (:mod:`.entries`) and reach the people
already in a journey (events seen, ``wait_event`` wake-ups, goal conversions).

Every audience event type is recorded under its ``event_type`` (``order_paid``, ``joined_group``,
``joined_staff``, ``campaign_clicked``, custom types); ``tag_added`` and ``stage_changed`` payloads
(``{tenant_id, user_id, tag}`` / ``{…, stage}``) enter the journeys that name them.
"""
from __future__ import annotations

from datetime import datetime

from chalicelib import clock
from chalicelib.journeys import catalog, entries, store


def on_events(payloads: list[dict]) -> None:
    now = clock.now()
    books = catalog.Catalog()
    writes: list[store.Write] = []
    for p in payloads:
        tenant_id, user_id = p.get("tenant_id"), p.get("user_id")
        if not (tenant_id and user_id) or p.get("imported"):
            continue
        trigger, event_type = _trigger(p)
        if trigger is None:
            continue
        at = _at(p, now)
        epoch = int(at.timestamp())
        if event_type:
            for pos in entries.in_flight(tenant_id, user_id):
                w = entries.on_event(pos, event_type, epoch, books)
                if w is not None:
                    writes.append(w)
        source = f"{trigger}#{user_id}#{p.get('at') or epoch}"
        for journey in entries.triggered(tenant_id, trigger, books):
            writes.append(entries.enter(journey, books, user_id, entries.entry_id(epoch, source),
                                        now, p.get("properties") or {}))
    store.commit(writes)


def _trigger(p: dict) -> tuple[str | None, str | None]:
    kind = p.get("type")
    if kind == "tag_added" and p.get("tag"):
        return f"tag:{p['tag']}", None
    if kind == "stage_changed" and p.get("stage"):
        return f"stage:{p['stage']}", None
    if p.get("event_type"):
        return f"event:{p['event_type']}", p["event_type"]
    return None, None


def _at(p: dict, now: datetime) -> datetime:
    try:
        return datetime.fromisoformat(p["at"]) if p.get("at") else now
    except (TypeError, ValueError):
        return now
