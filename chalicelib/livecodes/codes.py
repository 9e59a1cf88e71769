"""Live codes themselves: create, read, list and search, update, delete."""
from __future__ import annotations

from datetime import datetime

from pynamodb.expressions.update import Action

from chalicelib import clock, media, pagination
from chalicelib.error_codes import CONTENT_NOT_FOUND, INVALID_CURSOR
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.ids import is_id, new_id
from chalicelib.livecodes import counters, inputs
from chalicelib.livecodes.expiry import set_due
from chalicelib.livecodes.loading import CODE_ID_LEN, load
from chalicelib.livecodes.models import LiveCode
from chalicelib.livecodes.targets import new_target, release_ways, wecom_ways
from chalicelib.livecodes.views import view
from chalicelib.settings import get_settings

SEARCH_READ_BUDGET = 500  # codes examined per search request; past it the page ends early
_SET_OR_REMOVE = ("title", "windows", "welcome", "tags")  # null or empty clears these


def create(tenant_id: str, body: dict, now: datetime | None = None) -> dict:
    now = now or clock.now()
    values, target_inputs, fallback = inputs.parse_code(body)
    _check_welcome(tenant_id, values.get("welcome"))
    code = LiveCode(tenant_id=tenant_id, code_id=new_id(CODE_ID_LEN), name=values["name"],
                    title=values.get("title"),
                    channel=values["channel"], strategy=values.get("strategy", "fill"),
                    timezone=values.get("timezone") or get_settings().default_timezone,
                    enabled=values.get("enabled", True),
                    warn_threshold=values.get("warn_threshold", 20), windows=values.get("windows"),
                    welcome=values.get("welcome"), tags=values.get("tags") or None,
                    created_at=now, updated_at=now, seq=0)
    code.targets = [new_target(tenant_id, ti, now) for ti in target_inputs]
    if fallback not in (None, ...):
        code.fallback = new_target(tenant_id, fallback, now)
    if values.get("logo") is not None:
        code.logo_key = media.put(tenant_id, "logo", values["logo"].data, values["logo"].ext)
    set_due(code, now)
    with wecom_ways(tenant_id, code.code_id, [*code.targets, code.fallback]):
        code.save(condition=LiveCode.code_id.does_not_exist())
    counters.start(tenant_id, code.code_id, [*code.targets, code.fallback])
    return view(code)


def _check_welcome(tenant_id: str, welcome: dict | None) -> None:
    """A welcome's content item must be this tenant's (as a campaign's message is)."""
    content_id = (welcome or {}).get("content_id")
    if not content_id:
        return
    from chalicelib.content import service as content

    try:
        content.load(tenant_id, content_id)
    except NotFound:
        raise ValidationFailed(f"no such content item: {content_id[:64]}", code=CONTENT_NOT_FOUND,
                               field="welcome.content_id") from None


def get(tenant_id: str, code_id: str) -> dict:
    return view(load(tenant_id, code_id))


def list_codes(tenant_id: str, limit: int, cursor: str | None, q: str | None = None) -> dict:
    """A page of the tenant's codes; with ``q``, only those whose name or title holds it."""
    q = inputs.parse_search(q)
    if q:
        return search(tenant_id, q, limit, cursor)
    return pagination.by_tenant(LiveCode, tenant_id, limit, cursor, view, CODE_ID_LEN)


def search(tenant_id: str, q: str, limit: int, cursor: str | None) -> dict:
    """The codes whose name or title holds ``q`` (already case-folded), in the listing's order.

    A tenant's codes are one partition: the search reads it in key order from the cursor and keeps
    the matches (no Scan, no index to keep in step). A page ends at ``limit`` matches (the cursor
    is the last match) or after ``SEARCH_READ_BUDGET`` codes read (the cursor is the last code
    read, so the next page goes on from there); ``next_cursor`` is null only at the partition end."""
    if cursor and not is_id(cursor, CODE_ID_LEN):
        raise ValidationFailed("invalid cursor", code=INVALID_CURSOR, field="cursor")
    start = LiveCode.list_start(tenant_id, cursor) if cursor else None
    items: list[dict] = []
    codes = LiveCode.query(tenant_id, last_evaluated_key=start, page_size=100)
    for read, code in enumerate(codes, start=1):
        if q in (code.name or "").casefold() or q in (code.title or "").casefold():
            items.append(view(code))
            if len(items) == limit:
                return {"items": items, "next_cursor": code.code_id}
        if read >= SEARCH_READ_BUDGET:
            return {"items": items, "next_cursor": code.code_id}
    return {"items": items, "next_cursor": None}


def update(tenant_id: str, code_id: str, body: dict, now: datetime | None = None) -> dict:
    now = now or clock.now()
    code = load(tenant_id, code_id)
    values, _, fallback = inputs.parse_code(body, partial=True)
    _check_welcome(tenant_id, values.get("welcome"))
    actions: list[Action] = [LiveCode.updated_at.set(now)]
    for key in ("name", "channel", "strategy", "timezone", "enabled", "warn_threshold"):
        if key in values:
            actions.append(getattr(LiveCode, key).set(values[key]))
    for key in _SET_OR_REMOVE:
        if key in values:
            attr = getattr(LiveCode, key)
            actions.append(attr.set(values[key]) if values[key] else attr.remove())
    if "logo" in values:
        logo = values["logo"]
        actions.append(LiveCode.logo_key.set(media.put(tenant_id, "logo", logo.data, logo.ext))
                       if logo else LiveCode.logo_key.remove())
    old_fallback, new_fallback = code.fallback, None
    if fallback is None:
        actions.append(LiveCode.fallback.remove())
    elif fallback is not ...:
        new_fallback = new_target(tenant_id, fallback, now)
        actions.append(LiveCode.fallback.set(new_fallback))
    with wecom_ways(tenant_id, code_id, [new_fallback]):
        code.update(actions=actions)
    counters.start(tenant_id, code_id, [new_fallback])
    if fallback is not ...:
        counters.drop(tenant_id, code_id, [old_fallback])
        release_ways(tenant_id, [old_fallback])
    return view(load(tenant_id, code_id))


def delete(tenant_id: str, code_id: str) -> None:
    code = load(tenant_id, code_id)
    code.delete()
    counters.drop(tenant_id, code_id, [*(code.targets or []), code.fallback])
    release_ways(tenant_id, [*(code.targets or []), code.fallback])
