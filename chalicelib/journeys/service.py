"""Journeys use cases: create, read, list, edit (a new version when steps or goal change),
pause, resume, archive, delete; the routes' one entry point (stats: :mod:`.stats`)."""
from __future__ import annotations

from typing import Any

from chalicelib import clock, pagination
from chalicelib.error_codes import JOURNEY_ARCHIVED, JOURNEY_NOT_FOUND
from chalicelib.errors import Conflict, NotFound
from chalicelib.ids import is_id, new_id
from chalicelib.journeys import inputs
from chalicelib.journeys.models import Journey
from chalicelib.secret_store import app_secret

ID_LEN = 10
STATUSES = ("active", "paused", "archived")


def missing(journey_id: str) -> NotFound:
    return NotFound(f"journey {journey_id!r} not found", code=JOURNEY_NOT_FOUND)


def load(tenant_id: str, journey_id: str) -> Journey:
    if not is_id(journey_id, ID_LEN):
        raise missing(journey_id)
    return Journey.get_or_raise(tenant_id, Journey.journey_key(journey_id), missing(journey_id))


def _version(tenant_id: str, journey_id: str, version: int) -> Journey:
    return Journey.get(tenant_id, Journey.version_key(journey_id, version), consistent_read=True)


def view(j: Journey, v: Journey | None = None) -> dict:
    out = {"id": j.journey_id, "name": j.name, "status": j.status, "entry": j.entry,
           "reentry": j.reentry, "timezone": j.timezone, "version": int(j.version or 1),
           "created_at": iso(j.created_at), "updated_at": iso(j.updated_at)}
    if v is not None:
        out.update(steps=v.steps, goal=v.goal)
    return out


def iso(epoch: Any) -> str | None:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).isoformat() if epoch else None


def create(tenant_id: str, body: dict) -> dict:
    clean = inputs.parse(body)
    now = int(clock.now().timestamp())
    jid = new_id(ID_LEN)
    j = Journey(tenant_id=tenant_id, sk=Journey.journey_key(jid), journey_id=jid,
                name=clean["name"], status="active", entry=clean["entry"],
                reentry=clean["reentry"], timezone=clean.get("timezone"), version=1,
                created_at=now, updated_at=now)
    v = _new_version(j, 1, clean["steps"], clean["goal"], now)
    with Journey.transaction() as tx:
        tx.save(j, condition=Journey.sk.does_not_exist())
        tx.save(v)
        _index(tx, j, None)
        _plan_fire(tx, j)
    return view(j, v)


def _new_version(j: Journey, version: int, steps: list, goal: dict | None, now: int) -> Journey:
    return Journey(tenant_id=j.tenant_id, sk=Journey.version_key(j.journey_id or "", version),
                   journey_id=j.journey_id, version=version, steps=steps, goal=goal,
                   created_at=now)


def _trigger(j: Journey) -> Journey | None:
    trigger = inputs.trigger_of(j.entry or {})
    if trigger is None:
        return None
    return Journey(tenant_id=j.tenant_id, sk=Journey.trigger_key(trigger, j.journey_id or ""),
                   journey_id=j.journey_id)


def _index(tx: Any, j: Journey, old: Journey | None) -> None:
    """The trigger index of an active journey (replacing ``old``)."""
    new = _trigger(j) if j.status == "active" else None
    if old is not None and (new is None or new.sk != old.sk):
        tx.delete(old)
    if new is not None:
        tx.save(new)


def _plan_fire(tx: Any, j: Journey) -> None:
    """An audience entry's fire item, due at its first fire (a new one replaces the old)."""
    from chalicelib.campaigns import planning
    from chalicelib.journeys import scheduled

    if "audience" in (j.entry or {}):
        tz = j.timezone or planning.tenant_timezone(j.tenant_id)
        at = scheduled.next_fire(j.entry or {}, tz, clock.now(), first=True)
        tx.save(scheduled.fire_item(j, at))


def get(tenant_id: str, journey_id: str) -> dict:
    j = load(tenant_id, journey_id)
    return view(j, _version(tenant_id, journey_id, int(j.version or 1)))


def list_journeys(tenant_id: str, limit: int, cursor: str | None) -> dict:
    secret, scope = app_secret(), "list:journeys"
    position = pagination.decode(secret, tenant_id, scope, cursor)
    start = None
    if position is not None:
        after = position.get("after")
        if not (isinstance(after, str) and after.startswith(Journey.journey_key())):
            raise pagination.invalid()
        start = {"tenant_id": {"S": tenant_id}, "sk": {"S": after}}
    result = Journey.query(tenant_id, Journey.sk.startswith(Journey.journey_key()), limit=limit,
                           last_evaluated_key=start)
    items = [view(j) for j in result]
    last = result.last_evaluated_key
    return {"items": items, "next_cursor": pagination.encode(secret, tenant_id, scope,
                                                             {"after": last["sk"]["S"]})
            if last else None}


def update(tenant_id: str, journey_id: str, body: dict) -> dict:
    """Edit; new steps or goal make a new version (people in flight finish on theirs)."""
    clean = inputs.parse(body, partial=True)
    j = load(tenant_id, journey_id)
    if j.status == "archived":
        raise Conflict("an archived journey cannot change", code=JOURNEY_ARCHIVED)
    old_trigger = _trigger(j) if j.status == "active" else None
    now = int(clock.now().timestamp())
    current = _version(tenant_id, journey_id, int(j.version or 1))
    new_v = None
    if "steps" in clean or "goal" in clean:
        new_v = _new_version(j, int(j.version or 1) + 1, clean.get("steps", current.steps),
                             clean.get("goal", current.goal), now)
        j.version = new_v.version
    for key in ("name", "entry", "reentry", "timezone"):
        if key in clean:
            setattr(j, key, clean[key])
    j.updated_at = now
    _save(j, old_trigger, new_v, replan="entry" in clean or "timezone" in clean)
    return view(j, new_v or current)


def _save(j: Journey, old_trigger: Journey | None, new_v: Journey | None,
          replan: bool = False) -> None:
    """The journey, its trigger index, a new version, and (``replan``) its next fire."""
    with Journey.transaction() as tx:
        tx.save(j)
        if new_v is not None:
            tx.save(new_v, condition=Journey.sk.does_not_exist())
        _index(tx, j, old_trigger)
        if replan:
            _plan_fire(tx, j)


def set_status(tenant_id: str, journey_id: str, status: str) -> dict:
    """pause / resume (active) / archive; the trigger index holds only active journeys."""
    j = load(tenant_id, journey_id)
    if j.status == "archived" and status != "archived":
        raise Conflict("an archived journey stays archived", code=JOURNEY_ARCHIVED)
    old = _trigger(j) if j.status == "active" else None
    j.status, j.updated_at = status, int(clock.now().timestamp())
    _save(j, old, None)
    return get(tenant_id, journey_id)


def delete(tenant_id: str, journey_id: str) -> None:
    """Gone from the API; people in flight end (``archived``) at their next step."""
    j = load(tenant_id, journey_id)
    trigger = _trigger(j)
    with Journey.transaction() as tx:
        tx.delete(j)
        if trigger is not None:
            tx.delete(trigger)
