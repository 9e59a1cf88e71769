"""Entry by an audience at a schedule (``{"audience", "schedule": {at} | {cron}}``).

A journey entered this way has one *fire* item in the positions' time index, due at its next
fire. The tick pages the audience (never a Scan: :func:`chalicelib.audience.segments.iter_audience`)
``PAGE`` people per tick, entering each with an entry id made of the fire time — so a fire redone
after a crash enters nobody twice — and keeps the cursor in the fire item until the audience is
done; then it plans the next cron fire (an ``at`` fires once)."""
from __future__ import annotations

from datetime import datetime, timezone
from itertools import islice

from chalicelib.journeys import catalog, entries, positions, store
from chalicelib.journeys.models import Journey, Position

PAGE = 500


def fire_item(j: Journey, at: int | None) -> Position:
    p = Position(pk=Position.partition(j.tenant_id, Position.SCHEDULE_USER),
                 sk=Position.fire_key(j.journey_id or ""), tenant_id=j.tenant_id,
                 user_id=Position.SCHEDULE_USER, journey_id=j.journey_id or "", status="fire",
                 props={}, rev=0)
    positions.set_due(p, at)
    return p


def next_fire(entry: dict, tz_name: str, after: datetime, first: bool) -> int | None:
    """Epoch of the fire after ``after`` (``first``: an ``at`` in the past fires now)."""
    from chalicelib.campaigns import schedule

    sched = entry["schedule"]
    if "at" in sched:
        return int(datetime.fromisoformat(sched["at"]).timestamp()) if first else None
    return int(schedule.next_fire(sched["cron"], tz_name, after).timestamp())


def fire(item: Position, now: datetime, books: catalog.Catalog) -> int:
    """One page of a due fire: the people it entered."""
    j = books.journey(item.tenant_id, item.journey_id)
    nxt = positions.copy(item)
    nxt.rev = int(item.rev or 0) + 1
    if j is None or j.status == "archived" or "audience" not in (j.entry or {}):
        positions.set_due(nxt, None)
        store.commit([store.Write(item.tenant_id, item.journey_id, nxt, int(item.rev or 0))])
        return 0
    if j.status == "paused":
        positions.set_due(nxt, int(now.timestamp()) + 900)
        store.commit([store.Write(item.tenant_id, item.journey_id, nxt, int(item.rev or 0))])
        return 0
    state = dict(item.props or {})
    at = int(state.get("at") or positions.due_epoch(item) or now.timestamp())
    ids = _page(j, state.get("after"))
    more = len(ids) > PAGE
    ids = ids[:PAGE]
    source = f"schedule#{at}"
    store.commit([entries.enter(j, books, uid, entries.entry_id(at, source), now) for uid in ids])
    if more:
        nxt.props = {"at": at, "after": ids[-1]}
        positions.set_due(nxt, int(now.timestamp()))
    else:
        nxt.props = {}
        tz = books.timezone(j.tenant_id, j)
        positions.set_due(nxt, next_fire(j.entry or {}, tz,
                                         datetime.fromtimestamp(at, tz=timezone.utc), False))
    store.commit([store.Write(item.tenant_id, item.journey_id, nxt, int(item.rev or 0))])
    return len(ids)


def _page(j: Journey, after: str | None) -> list[str]:
    from chalicelib.audience import segments

    aud = (j.entry or {})["audience"]
    return list(islice(segments.iter_audience(
        j.tenant_id, aud.get("tags_all") or (), aud.get("tags_any") or (),
        aud.get("tags_none") or (), aud.get("stages") or (), after=after, limit=PAGE + 1),
        PAGE + 1))
