"""Webhook subscriptions (create, read, change, delete) and the delivery log.

A subscription's URL is checked when it is saved: absolute http(s) and resolving to public
addresses only (:func:`chalicelib.fetch.check_saved_url`; checked again at every delivery, as DNS can
change). Its signing secret is shown once, in the create (or rotate) answer, and kept sealed
(:mod:`chalicelib.wecom.vault`).
"""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib import clock, fetch
from chalicelib import validate as v
from chalicelib.error_codes import (
    INVALID_CURSOR,
    INVALID_EVENT_TYPE,
    SUBSCRIPTION_NOT_FOUND,
    TOO_MANY_SUBSCRIPTIONS,
)
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.events import WEBHOOK_TYPES
from chalicelib.hooks.models import HookItem
from chalicelib.ids import is_id, new_id, new_token

EVENT_TYPES = WEBHOOK_TYPES
SUBSCRIPTION_ID_LEN = 10
MAX_SUBSCRIPTIONS = 20
STATUSES = ("pending", "delivered", "failed")
FIELDS = {"url", "events", "description", "enabled", "include_imported"}


def _purpose(subscription_id: str) -> str:
    return f"webhook:{subscription_id}"


def secret_of(item: HookItem) -> str:
    from chalicelib.wecom import vault

    return vault.unseal(item.tenant_id, _purpose(item.subscription_id), item.secret_sealed)


def _new_secret(tenant_id: str, subscription_id: str) -> tuple[str, str]:
    from chalicelib.wecom import vault

    secret = "whsec_" + new_token(24)
    return secret, vault.seal(tenant_id, _purpose(subscription_id), secret)


def view(item: HookItem) -> dict:
    return {"id": item.subscription_id, "url": item.url, "events": sorted(item.events or []),
            "description": item.description, "enabled": bool(item.enabled),
            "include_imported": bool(item.include_imported),
            "created_at": item.created_at.isoformat(),
            "updated_at": item.updated_at.isoformat() if item.updated_at else None}


def _parse(body: dict, partial: bool) -> dict:
    v.only_keys(body, FIELDS | ({"rotate_secret"} if partial else set()))
    values: dict = {}
    url = v.http_url(body, "url", required=not partial)
    if url is not None:
        fetch.check_saved_url(url)
        values["url"] = url
    events = v.list_(body, "events", required=not partial, max_items=len(EVENT_TYPES))
    if events is not None:
        unknown = sorted({str(e) for e in events if not isinstance(e, str) or e not in EVENT_TYPES})
        if unknown or not events:
            raise ValidationFailed(f"'events' must list event types from: {', '.join(EVENT_TYPES)}"
                                   + (f" (unknown: {unknown[0]})" if unknown else ""),
                                   code=INVALID_EVENT_TYPE, field="events")
        values["events"] = set(events)
    if "description" in body:
        values["description"] = v.text(body, "description", max_len=200)
    for flag in ("enabled", "include_imported"):
        value = v.boolean(body, flag)
        if value is not None:
            values[flag] = value
    return values


def create(tenant_id: str, body: dict) -> dict:
    values = _parse(body, partial=False)
    existing = list(HookItem.query(tenant_id, HookItem.sk.startswith(HookItem.subscription_key()),
                                   attributes_to_get=["sk"], limit=MAX_SUBSCRIPTIONS + 1))
    if len(existing) >= MAX_SUBSCRIPTIONS:
        raise Conflict(f"a tenant has at most {MAX_SUBSCRIPTIONS} webhook subscriptions",
                       code=TOO_MANY_SUBSCRIPTIONS)
    sub_id = new_id(SUBSCRIPTION_ID_LEN)
    secret, sealed = _new_secret(tenant_id, sub_id)
    now = clock.now()
    item = HookItem(tenant_id=tenant_id, sk=HookItem.subscription_key(sub_id), subscription_id=sub_id,
                    url=values["url"], events=values["events"],
                    description=values.get("description"), enabled=values.get("enabled", True),
                    include_imported=values.get("include_imported", False),
                    secret_sealed=sealed, created_at=now, updated_at=now)
    item.save(condition=HookItem.sk.does_not_exist())
    return {**view(item), "secret": secret}


def load(tenant_id: str, subscription_id: str) -> HookItem:
    missing = NotFound("no such webhook subscription", code=SUBSCRIPTION_NOT_FOUND)
    if not isinstance(subscription_id, str) or not is_id(subscription_id, SUBSCRIPTION_ID_LEN):
        raise missing
    try:
        return HookItem.get(tenant_id, HookItem.subscription_key(subscription_id),
                            consistent_read=True)
    except DoesNotExist:
        raise missing from None


def get(tenant_id: str, subscription_id: str) -> dict:
    return view(load(tenant_id, subscription_id))


def list_subscriptions(tenant_id: str) -> dict:
    items = HookItem.query(tenant_id, HookItem.sk.startswith(HookItem.subscription_key()))
    return {"items": [view(i) for i in items], "next_cursor": None}


def update(tenant_id: str, subscription_id: str, body: dict) -> dict:
    item = load(tenant_id, subscription_id)
    values = _parse(body, partial=True)
    rotate = v.boolean(body, "rotate_secret", default=False)
    actions = [getattr(HookItem, name).set(value) for name, value in values.items()]
    secret = None
    if rotate:
        secret, sealed = _new_secret(tenant_id, subscription_id)
        actions.append(HookItem.secret_sealed.set(sealed))
    actions.append(HookItem.updated_at.set(clock.now()))
    item.update(actions=actions, condition=HookItem.sk.exists())
    answer = view(item)
    if secret:
        answer["secret"] = secret
    return answer


def delete(tenant_id: str, subscription_id: str) -> None:
    load(tenant_id, subscription_id).delete()


# ---- the delivery log ---------------------------------------------------------------------------

def delivery_view(item: HookItem) -> dict:
    return {"id": item.delivery_id, "subscription_id": HookItem.subscription_of(item.sub_key),
            "event_type": item.event_type, "status": item.status, "attempts": int(item.attempts or 0),
            "response_status": None if item.response_status is None else int(item.response_status),
            "last_error": item.last_error, "created_at": item.created_at.isoformat(),
            "delivered_at": item.delivered_at.isoformat() if item.delivered_at else None,
            "next_attempt_at": item.next_attempt_at.isoformat() if item.next_attempt_at else None}


def list_deliveries(tenant_id: str, params: dict) -> dict:
    """The log, newest first; ``subscription_id`` reads that subscription's index, ``status``
    filters. The cursor is the last delivery id of the page."""
    limit = v.page_limit(params, default=50, hi=200)
    status = v.choice(params, "status", STATUSES)
    sub_id = params.get("subscription_id")
    cursor = params.get("cursor")
    if cursor is not None and not _delivery_id_ok(cursor):
        raise ValidationFailed("invalid cursor", code=INVALID_CURSOR, field="cursor")
    filt = HookItem.status == status if status else None
    if sub_id:
        load(tenant_id, sub_id)
        prefix = HookItem.subscription_delivery_key(sub_id)
        cond = (HookItem.sub_key.between(prefix, HookItem.subscription_delivery_key(sub_id, cursor))
                if cursor else HookItem.sub_key.startswith(prefix))
        found = HookItem.subscription_index.query(tenant_id, cond, filter_condition=filt,
                                                  scan_index_forward=False)
    else:
        cond = (HookItem.sk.between(HookItem.delivery_key(), HookItem.delivery_key(cursor)) if cursor
                else HookItem.sk.startswith(HookItem.delivery_key()))
        found = HookItem.query(tenant_id, cond, filter_condition=filt, scan_index_forward=False)
    items: list[dict] = []
    more = False
    for item in found:
        if cursor and item.delivery_id == cursor:
            continue
        if len(items) == limit:
            more = True
            break
        items.append(delivery_view(item))
    return {"items": items, "next_cursor": items[-1]["id"] if more else None}


def _delivery_id_ok(value: str) -> bool:
    return isinstance(value, str) and is_id(value, 16)
