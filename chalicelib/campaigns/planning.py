"""Campaign planning: loading a campaign, the tenant's messaging defaults and timezone, a
campaign's current status (cached for senders), and its pending schedule.

A campaign's pending schedule is one due item (``due_key``) and, for ``after_event`` campaigns, one
trigger index item; :func:`save` changes both in the same transaction as the campaign (guarded by
``rev``), so a paused, edited or deleted campaign never leaves a live schedule behind.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.campaigns import due, pool, rules, schedule
from chalicelib.campaigns.models import Campaign, DueItem
from chalicelib.db import condition_failed
from chalicelib.error_codes import CAMPAIGN_CHANGED, CAMPAIGN_NOT_FOUND
from chalicelib.errors import Conflict, NotFound
from chalicelib.ids import CAMPAIGN_ID_LEN, is_id
from chalicelib.settings import get_settings

STATUS_CACHE_SECONDS = 10.0
_settings_cache: dict[str, tuple[float, dict]] = {}
_status_cache: dict[tuple[str, str], tuple[float, str]] = {}


def missing(campaign_id: str = "") -> NotFound:
    return NotFound(f"no such campaign: {campaign_id[:40]}", code=CAMPAIGN_NOT_FOUND)


def load(tenant_id: str, campaign_id: str) -> Campaign:
    if not isinstance(campaign_id, str) or not is_id(campaign_id, CAMPAIGN_ID_LEN):
        raise missing(str(campaign_id))
    try:
        return Campaign.get(tenant_id, Campaign.campaign_key(campaign_id), consistent_read=True)
    except DoesNotExist:
        raise missing(campaign_id) from None


# ---- tenant messaging defaults ------------------------------------------------------------------

def messaging_settings(tenant_id: str, max_age: float = 30.0) -> dict:
    hit = _settings_cache.get(tenant_id)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    try:
        stored = Campaign.get(tenant_id, Campaign.settings_key()).settings or {}
    except DoesNotExist:
        stored = {}
    value = {"caps": {**rules.DEFAULT_CAPS, **(stored.get("caps") or {})},
             "channel_caps": stored.get("channel_caps") or {},
             "quiet_hours": stored.get("quiet_hours")}
    _settings_cache[tenant_id] = (time.monotonic() + max_age, value)
    return value


def store_messaging_settings(tenant_id: str, value: dict) -> None:
    Campaign(tenant_id=tenant_id, sk=Campaign.settings_key(), settings=value).save()
    _settings_cache.pop(tenant_id, None)


def tenant_timezone(tenant_id: str) -> str:
    from chalicelib.auth import service as auth

    try:
        return auth.get_tenant(tenant_id).timezone or get_settings().default_timezone
    except NotFound:
        return get_settings().default_timezone


# ---- status -------------------------------------------------------------------------------------

def current_status(tenant_id: str, campaign_id: str) -> str:
    """active | paused | deleted, cached briefly per container (senders ask once per batch)."""
    hit = _status_cache.get((tenant_id, campaign_id))
    if hit and hit[0] > time.monotonic():
        return hit[1]
    try:
        status = Campaign.get(tenant_id, Campaign.campaign_key(campaign_id)).status or "active"
    except DoesNotExist:
        status = "deleted"
    _status_cache[(tenant_id, campaign_id)] = (time.monotonic() + STATUS_CACHE_SECONDS, status)
    return status


def forget(tenant_id: str | None = None, campaign_id: str | None = None) -> None:
    if tenant_id is None:
        _status_cache.clear()
        _settings_cache.clear()
        pool.forget()
    elif campaign_id is not None:  # one campaign (a tenant alone has nothing to forget)
        _status_cache.pop((tenant_id, campaign_id), None)


def event_cutoff(now: datetime) -> datetime:
    """Events whose send time is older than this are too late to act on (replays, backfills)."""
    return now - timedelta(days=1)


# ---- the pending schedule -----------------------------------------------------------------------

def plan(c: Campaign, now: datetime) -> tuple[DueItem | None, Campaign | None]:
    """The due item and trigger item an active campaign needs now (either may be None)."""
    c.next_run_at = None
    if c.status != "active":
        return None, None
    sched = schedule.from_stored(c.schedule)
    # each kind's field is always set (schedule.parse and from_stored build them so)
    if sched.kind == "after_event":
        assert sched.event_type is not None
        return None, Campaign(tenant_id=c.tenant_id,
                              sk=Campaign.trigger_key(sched.event_type, c.campaign_id),
                              campaign_id=c.campaign_id, event_type=sched.event_type,
                              delay_minutes=sched.delay_minutes)
    if sched.kind == "at" and not c.fired:
        assert sched.at is not None
        at = max(sched.at, now)
    elif sched.kind == "cron":
        assert sched.cron is not None
        at = schedule.next_fire(sched.cron, c.timezone, now)
    else:
        return None, None
    c.next_run_at = at
    return due.item(at, c.tenant_id, c.campaign_id, "fire", "fire"), None


def pending(c: Campaign) -> dict:
    """The schedule items a stored campaign holds now (what :func:`save` replaces)."""
    sched = schedule.from_stored(c.schedule)
    trigger = None
    if sched.kind == "after_event" and c.status == "active":
        assert sched.event_type is not None  # always set for after_event (see plan)
        trigger = Campaign.trigger_key(sched.event_type, c.campaign_id)
    return {"due_key": c.due_key, "trigger": trigger}


def save(c: Campaign, old: dict, now: datetime, *, create: bool = False,
         plan_from: datetime | None = None) -> None:
    """Write the campaign with its new schedule items, replacing the ``old`` ones, atomically;
    Conflict (campaign-changed) when it changed since it was read."""
    new_due, trigger = plan(c, plan_from or now)
    c.due_key = due.ref(new_due) if new_due else None
    prev_rev = int(c.rev or 0)
    c.rev = prev_rev + 1
    c.updated_at = now
    condition = (Campaign.sk.does_not_exist() if create else (Campaign.rev == prev_rev))
    try:
        with Campaign.transaction() as tx:
            tx.save(c, condition=condition)
            if old.get("due_key") and old["due_key"] != c.due_key:
                tx.delete(due.from_ref(old["due_key"]))
            if new_due and old.get("due_key") != c.due_key:
                tx.save(new_due)
            if old.get("trigger") and (trigger is None or trigger.sk != old["trigger"]):
                tx.delete(Campaign(tenant_id=c.tenant_id, sk=old["trigger"]))
            if trigger is not None:
                tx.save(trigger)
    except TransactWriteError as exc:
        c.rev = prev_rev
        if condition_failed(exc):
            raise Conflict("the campaign was changed concurrently; read it again and retry",
                           code=CAMPAIGN_CHANGED) from None
        raise


def remove(c: Campaign) -> None:
    """Delete the campaign with its schedule items (guarded by ``rev``)."""
    old = pending(c)
    with Campaign.transaction() as tx:
        tx.delete(c, condition=Campaign.rev == int(c.rev or 0))
        if old["due_key"]:
            tx.delete(due.from_ref(old["due_key"]))
        if old["trigger"]:
            tx.delete(Campaign(tenant_id=c.tenant_id, sk=old["trigger"]))
    forget(c.tenant_id, c.campaign_id)
