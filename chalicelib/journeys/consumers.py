"""Event consumers of journeys: events enter people (:mod:`.entries`) and reach the people
already in a journey (events seen, ``wait_event`` wake-ups, goal conversions).

Every audience event type is recorded under its ``event_type`` (``order_paid``, ``joined_group``,
``joined_staff``, ``campaign_clicked``, custom types); ``tag_added`` and ``stage_changed`` payloads
(``{tenant_id, user_id, tag}`` / ``{…, stage}``) enter the journeys that name them. An event that
meets a position the tick moved in the same instant is applied again to the moved position.
"""
from __future__ import annotations

from datetime import datetime

from chalicelib import clock
from chalicelib.journeys import catalog, entries, store

ATTEMPTS = 3


def on_events(payloads: list[dict]) -> None:
    now = clock.now()
    books = catalog.Catalog()
    writes: list[store.Write] = []
    seen: list[tuple[str, str, str, int]] = []
    for p in payloads:
        tenant_id, user_id = p.get("tenant_id"), p.get("user_id")
        if not (tenant_id and user_id) or p.get("imported"):
            continue
        trigger, event_type = _trigger(p)
        if trigger is None:
            continue
        epoch = int(_at(p, now).timestamp())
        if event_type:
            seen.append((tenant_id, user_id, event_type, epoch))
        source = f"{trigger}#{user_id}#{p.get('at') or epoch}"
        for journey in entries.triggered(tenant_id, trigger, books):
            writes.append(entries.enter(journey, books, user_id, entries.entry_id(epoch, source),
                                        now, p.get("properties") or {}))
    _reach_in_flight(seen, books)
    store.commit(writes)


def _reach_in_flight(seen: list[tuple[str, str, str, int]], books: catalog.Catalog) -> None:
    """Record the events on the people's active positions (before this batch's entries: an
    entering event is not an event since entry)."""
    for _ in range(ATTEMPTS):
        writes = []
        for tenant_id, user_id, event_type, epoch in seen:
            for pos in entries.in_flight(tenant_id, user_id):
                w = entries.on_event(pos, event_type, epoch, books)
                if w is not None:
                    writes.append((w, (tenant_id, user_id, event_type, epoch)))
        done, refused = store.commit([w for w, _ in writes])
        applied = {id(w) for w in done + refused}
        seen = list(dict.fromkeys(k for w, k in writes if id(w) not in applied))
        if not seen:
            return
    raise RuntimeError("positions kept changing under an event; the event is retried")


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
