"""Campaign use cases: definitions and their schedules, running now, messaging defaults and
unsubscribes; the read side (runs, stats, deliveries, outbox) is :mod:`~chalicelib.campaigns.reports`
and tracked clicks :mod:`~chalicelib.campaigns.clicks`, both offered here too, so the routes (and
other packages) have one entry point.

Schedules are planned and written by :mod:`chalicelib.campaigns.planning`.
"""
from __future__ import annotations

from chalicelib import clock
from chalicelib.campaigns import inputs, planning, schedule
from chalicelib.campaigns.clicks import click
from chalicelib.campaigns.models import Campaign
from chalicelib.campaigns.planning import current_status, forget, load, messaging_settings
from chalicelib.campaigns.reports import deliveries, delivery_view, iso, list_runs, outbox, stats
from chalicelib.error_codes import (
    CAMPAIGN_EVENT_TRIGGERED,
    CAMPAIGN_PAUSED,
    CONTENT_NOT_FOUND,
    WEBHOOK_URL_REQUIRED,
)
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.ids import CAMPAIGN_ID_LEN, new_id

__all__ = ["Conflict", "NotFound", "click", "create", "current_status", "delete", "deliveries",
           "delivery_view", "forget", "get", "list_campaigns", "list_runs", "load",
           "messaging_settings", "outbox", "run_now", "set_status", "set_unsubscribed", "stats",
           "subscription", "update", "update_messaging_settings", "view"]


def view(c: Campaign) -> dict:
    return {
        "id": c.campaign_id, "name": c.name, "status": c.status, "audience": c.audience,
        "message": c.message, "channel": c.channel, "webhook_url": c.webhook_url,
        "schedule": c.schedule, "timezone": c.timezone, "caps": c.caps,
        "quiet_hours": c.quiet_hours, "next_run_at": iso(c.next_run_at),
        "last_run_id": c.last_run_id, "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
    }


def get(tenant_id: str, campaign_id: str) -> dict:
    return view(load(tenant_id, campaign_id))


def list_campaigns(tenant_id: str, limit: int, cursor: str | None, status: str | None) -> dict:
    from chalicelib.campaigns.reports import cursor as encode
    from chalicelib.campaigns.reports import from_cursor

    position = from_cursor(tenant_id, "campaigns", cursor)
    start = position and Campaign.key_dict(tenant_id, position["sk"])
    cond = Campaign.sk.startswith(Campaign.campaign_prefix())
    filt = (Campaign.status == status) if status else None
    result = Campaign.query(tenant_id, cond, filter_condition=filt, last_evaluated_key=start,
                            page_size=limit)
    items, last = [], None
    for c in result:
        items.append(view(c))
        last = c.sk
        if len(items) == limit:
            break
    more = len(items) == limit and result.last_evaluated_key is not None
    return {"items": items, "next_cursor": encode(tenant_id, "campaigns", {"sk": last})
            if more else None}


def update_messaging_settings(tenant_id: str, body: dict) -> dict:
    value = inputs.parse_settings(body, messaging_settings(tenant_id, max_age=0))
    planning.store_messaging_settings(tenant_id, value)
    return messaging_settings(tenant_id, max_age=0)


# ---- definitions --------------------------------------------------------------------------------

def _check_refs(tenant_id: str, values: dict) -> None:
    message = values.get("message") or {}
    for key in ("content_id", "fallback_content_id"):
        if message.get(key):
            _check_content(tenant_id, message[key], f"message.{key}")
    if message.get("coupon"):
        from chalicelib.coupons import service as coupons

        coupons.check_pool(tenant_id, message["coupon"]["pool_id"], "message.coupon.pool_id")
    if values.get("channel") == "wecom":
        from chalicelib.wecom import integration

        integration.load(tenant_id)  # NotConfigured: 409 wecom-not-configured
    if values.get("channel") == "webhook" and not values.get("webhook_url"):
        from chalicelib.auth import service as auth

        if not auth.get_tenant(tenant_id, max_age=0).webhook_url:
            raise ValidationFailed("the webhook channel needs 'webhook_url' (or the tenant's "
                                   "webhook_url, PATCH /v1/tenant)", code=WEBHOOK_URL_REQUIRED,
                                   field="webhook_url")


def _check_content(tenant_id: str, content_id: str, field: str) -> None:
    """The item must be the tenant's own (another tenant's id is simply not found)."""
    from chalicelib.content import service as content

    try:
        content.load(tenant_id, content_id)
    except NotFound:
        raise ValidationFailed(f"no such content item: {content_id}", code=CONTENT_NOT_FOUND,
                               field=field) from None


def _apply(c: Campaign, values: dict) -> None:
    for key, value in values.items():
        if key == "schedule":
            c.schedule = value.as_dict()
            c.fired = False
        elif key == "quiet_hours":
            c.quiet_hours = inputs.stored_quiet(value)
        else:
            setattr(c, key, value)


def create(tenant_id: str, body: dict) -> dict:
    now = clock.now()
    values = inputs.parse_campaign(body, now, partial=False)
    _check_refs(tenant_id, values)
    c = Campaign(tenant_id=tenant_id, campaign_id=new_id(CAMPAIGN_ID_LEN), status="active",
                 created_at=now, rev=0)
    c.sk = Campaign.campaign_key(c.campaign_id)
    c.timezone = planning.tenant_timezone(tenant_id)
    _apply(c, values)
    planning.save(c, {}, now, create=True)
    return view(c)


def update(tenant_id: str, campaign_id: str, body: dict) -> dict:
    now = clock.now()
    values = inputs.parse_campaign(body, now, partial=True)
    c = load(tenant_id, campaign_id)
    old = planning.pending(c)
    _check_refs(tenant_id, {"channel": c.channel, "webhook_url": c.webhook_url, **values})
    _apply(c, values)
    planning.save(c, old, now)
    return view(c)


def delete(tenant_id: str, campaign_id: str) -> None:
    planning.remove(load(tenant_id, campaign_id))


def set_status(tenant_id: str, campaign_id: str, status: str) -> dict:
    """Pause (stops future fires, triggers and queued batches) or resume (plans from now; an
    ``at`` that passed while paused fires now)."""
    now = clock.now()
    c = load(tenant_id, campaign_id)
    if c.status == status:
        return view(c)
    old = planning.pending(c)
    c.status = status
    planning.save(c, old, now)
    forget(tenant_id, campaign_id)
    return view(c)


def run_now(tenant_id: str, campaign_id: str) -> str:
    from chalicelib.campaigns import dispatch

    c = load(tenant_id, campaign_id)
    if c.status != "active":
        raise Conflict("the campaign is paused; resume it first", code=CAMPAIGN_PAUSED)
    if schedule.from_stored(c.schedule).kind == "after_event":
        raise Conflict("an after_event campaign sends per user when their event arrives; it has "
                       "no run to start", code=CAMPAIGN_EVENT_TRIGGERED)
    return dispatch.start_run(c, trigger="manual", run_id="m" + new_id(9))


# ---- unsubscribes -------------------------------------------------------------------------------

def set_unsubscribed(tenant_id: str, user_id: str, unsubscribed: bool) -> dict:
    """The mini-program user's choice; senders skip unsubscribed users (reason ``unsubscribed``)."""
    from chalicelib.audience import store as audience
    from chalicelib.campaigns import unsubscribes

    user_id = audience.load(tenant_id, user_id).user_id  # follows merges
    unsubscribes.set_unsubscribed(tenant_id, user_id, unsubscribed)
    return {"user_id": user_id, "unsubscribed": unsubscribed}


def subscription(tenant_id: str, user_id: str) -> dict:
    from chalicelib.campaigns import unsubscribes

    gone = unsubscribes.unsubscribed(tenant_id, [user_id], max_age=0)
    return {"user_id": user_id, "unsubscribed": user_id in gone}
