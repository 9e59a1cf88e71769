"""Campaign use cases: definitions and their schedules, runs, stats, deliveries, the outbox,
messaging defaults, unsubscribes and tracked clicks.

A campaign's pending schedule is one due item (``due_key``) and, for ``after_event`` campaigns, one
trigger index item; both change in the same transaction as the campaign (guarded by ``rev``), so a
paused, edited or deleted campaign never leaves a live schedule behind.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.campaigns import clock, due, inputs, rules, schedule
from chalicelib.campaigns.models import Campaign, CampaignBatch, OutboxItem
from chalicelib.db import condition_failed
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.ids import is_id, new_id
from chalicelib.secret_store import app_secret
from chalicelib.settings import get_settings

CAMPAIGN_ID_LEN = 10
FISSION_TASK_ID_LEN = 8  # reward notices share the outbox: campaign_id = task, run_id = participant
_settings_cache: dict[str, tuple[float, dict]] = {}


def _missing(campaign_id: str = "") -> NotFound:
    return NotFound(f"no such campaign: {campaign_id[:40]}", code="campaign-not-found")


def _transaction() -> TransactWrite:
    return TransactWrite(connection=Campaign._get_connection().connection)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _cursor(tenant_id: str, scope: str, position: dict | None) -> str | None:
    from chalicelib import pagination as cursors

    return cursors.encode(app_secret(), tenant_id, scope, position) if position else None


def _from_cursor(tenant_id: str, scope: str, value: str | None) -> dict | None:
    from chalicelib import pagination as cursors

    return cursors.decode(app_secret(), tenant_id, scope, value)


# ---- tenant messaging defaults ------------------------------------------------------------------

def messaging_settings(tenant_id: str, max_age: float = 30.0) -> dict:
    hit = _settings_cache.get(tenant_id)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    try:
        stored = Campaign.get(tenant_id, "CFG").settings or {}
    except DoesNotExist:
        stored = {}
    value = {"caps": {**rules.DEFAULT_CAPS, **(stored.get("caps") or {})},
             "channel_caps": stored.get("channel_caps") or {},
             "quiet_hours": stored.get("quiet_hours")}
    _settings_cache[tenant_id] = (time.monotonic() + max_age, value)
    return value


def update_messaging_settings(tenant_id: str, body: dict) -> dict:
    value = inputs.parse_settings(body, messaging_settings(tenant_id, max_age=0))
    Campaign(tenant_id=tenant_id, sk="CFG", settings=value).save()
    _settings_cache.pop(tenant_id, None)
    return messaging_settings(tenant_id, max_age=0)


def tenant_timezone(tenant_id: str) -> str:
    from chalicelib.auth import service as auth

    try:
        return auth.get_tenant(tenant_id).timezone or get_settings().default_timezone
    except NotFound:
        return get_settings().default_timezone


# ---- campaigns ----------------------------------------------------------------------------------

def view(c: Campaign) -> dict:
    return {
        "id": c.campaign_id, "name": c.name, "status": c.status, "audience": c.audience,
        "message": c.message, "channel": c.channel, "webhook_url": c.webhook_url,
        "schedule": c.schedule, "timezone": c.timezone, "caps": c.caps,
        "quiet_hours": c.quiet_hours, "next_run_at": _iso(c.next_run_at),
        "last_run_id": c.last_run_id, "created_at": _iso(c.created_at),
        "updated_at": _iso(c.updated_at),
    }


def load(tenant_id: str, campaign_id: str) -> Campaign:
    if not isinstance(campaign_id, str) or not is_id(campaign_id, CAMPAIGN_ID_LEN):
        raise _missing(str(campaign_id))
    try:
        return Campaign.get(tenant_id, Campaign.campaign_key(campaign_id), consistent_read=True)
    except DoesNotExist:
        raise _missing(campaign_id) from None


def get(tenant_id: str, campaign_id: str) -> dict:
    return view(load(tenant_id, campaign_id))


def list_campaigns(tenant_id: str, limit: int, cursor: str | None, status: str | None) -> dict:
    position = _from_cursor(tenant_id, "campaigns", cursor)
    start = position and {"tenant_id": {"S": tenant_id}, "sk": {"S": position["sk"]}}
    cond = Campaign.sk.startswith("C#")
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
    return {"items": items, "next_cursor": _cursor(tenant_id, "campaigns", {"sk": last})
            if more else None}


def _check_refs(tenant_id: str, values: dict) -> None:
    message = values.get("message")
    if message and message.get("content_id"):
        from chalicelib.content import service as content

        try:
            content.load(tenant_id, message["content_id"])
        except NotFound:
            raise ValidationFailed(f"no such content item: {message['content_id']}",
                                   code="content-not-found", field="message.content_id") from None
    if values.get("channel") == "wecom":
        from chalicelib.wecom import integration

        integration.load(tenant_id)  # NotConfigured: 409 wecom-not-configured
    if values.get("channel") == "webhook" and not values.get("webhook_url"):
        from chalicelib.auth import service as auth

        if not auth.get_tenant(tenant_id, max_age=0).webhook_url:
            raise ValidationFailed("the webhook channel needs 'webhook_url' (or the tenant's "
                                   "webhook_url, PATCH /v1/tenant)", code="webhook-url-required",
                                   field="webhook_url")


def _plan(c: Campaign, now: datetime) -> tuple[Any, Campaign | None]:
    """The due item and trigger item an active campaign needs now (either may be None)."""
    c.next_run_at = None
    if c.status != "active":
        return None, None
    sched = schedule.from_stored(c.schedule)
    if sched.kind == "after_event":
        return None, Campaign(tenant_id=c.tenant_id, sk=Campaign.trigger_key(sched.event_type,
                                                                           c.campaign_id),
                              campaign_id=c.campaign_id, event_type=sched.event_type,
                              delay_minutes=sched.delay_minutes)
    if sched.kind == "at" and not c.fired:
        at = max(sched.at, now)
    elif sched.kind == "cron":
        at = schedule.next_fire(sched.cron, c.timezone, now)
    else:
        return None, None
    c.next_run_at = at
    return due.item(at, c.tenant_id, c.campaign_id, "fire", "fire"), None


def _save(c: Campaign, old: dict, now: datetime, *, create: bool = False,
          plan_from: datetime | None = None) -> None:
    """Write the campaign with its new schedule items, replacing the old ones, atomically."""
    new_due, trigger = _plan(c, plan_from or now)
    c.due_key = due.ref(new_due) if new_due else None
    prev_rev = int(c.rev or 0)
    c.rev = prev_rev + 1
    c.updated_at = now
    condition = (Campaign.sk.does_not_exist() if create else (Campaign.rev == prev_rev))
    try:
        with _transaction() as tx:
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
                           code="campaign-changed") from None
        raise


def _old(c: Campaign) -> dict:
    sched = schedule.from_stored(c.schedule)
    trigger = (Campaign.trigger_key(sched.event_type, c.campaign_id)
               if sched.kind == "after_event" and c.status == "active" else None)
    return {"due_key": c.due_key, "trigger": trigger}


def create(tenant_id: str, body: dict) -> dict:
    now = clock.now()
    values = inputs.parse_campaign(body, now, partial=False)
    _check_refs(tenant_id, values)
    c = Campaign(tenant_id=tenant_id, campaign_id=new_id(CAMPAIGN_ID_LEN), status="active",
                 created_at=now, rev=0)
    c.sk = Campaign.campaign_key(c.campaign_id)
    c.timezone = tenant_timezone(tenant_id)
    _apply(c, values)
    _save(c, {}, now, create=True)
    return view(c)


def _apply(c: Campaign, values: dict) -> None:
    for key, value in values.items():
        if key == "schedule":
            c.schedule = value.as_dict()
            c.fired = False
        elif key == "quiet_hours":
            c.quiet_hours = inputs.stored_quiet(value)
        else:
            setattr(c, key, value)


def update(tenant_id: str, campaign_id: str, body: dict) -> dict:
    now = clock.now()
    values = inputs.parse_campaign(body, now, partial=True)
    c = load(tenant_id, campaign_id)
    old = _old(c)
    _check_refs(tenant_id, {"channel": c.channel, "webhook_url": c.webhook_url, **values})
    _apply(c, values)
    _save(c, old, now)
    return view(c)


def delete(tenant_id: str, campaign_id: str) -> None:
    c = load(tenant_id, campaign_id)
    old = _old(c)
    with _transaction() as tx:
        tx.delete(c, condition=Campaign.rev == int(c.rev or 0))
        if old["due_key"]:
            tx.delete(due.from_ref(old["due_key"]))
        if old["trigger"]:
            tx.delete(Campaign(tenant_id=tenant_id, sk=old["trigger"]))
    forget(tenant_id, campaign_id)


def set_status(tenant_id: str, campaign_id: str, status: str) -> dict:
    """Pause (stops future fires, triggers and queued batches) or resume (plans from now; an
    ``at`` that passed while paused fires now)."""
    now = clock.now()
    c = load(tenant_id, campaign_id)
    if c.status == status:
        return view(c)
    old = _old(c)
    c.status = status
    _save(c, old, now)
    forget(tenant_id, campaign_id)
    return view(c)


_status_cache: dict[tuple[str, str], tuple[float, str]] = {}
STATUS_CACHE_SECONDS = 10.0


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
    else:
        _status_cache.pop((tenant_id, campaign_id), None)


def run_now(tenant_id: str, campaign_id: str) -> str:
    from chalicelib.campaigns import dispatch

    c = load(tenant_id, campaign_id)
    if c.status != "active":
        raise Conflict("the campaign is paused; resume it first", code="campaign-paused")
    if schedule.from_stored(c.schedule).kind == "after_event":
        raise Conflict("an after_event campaign sends per user when their event arrives; it has "
                       "no run to start", code="campaign-event-triggered")
    return dispatch.start_run(c, trigger="manual", run_id="m" + new_id(9))


# ---- runs, stats, deliveries --------------------------------------------------------------------

def _stat_rows(tenant_id: str, campaign_id: str, run_id: str | None) -> dict[str, dict]:
    """Summed stats shards by run id."""
    pk = CampaignBatch.partition(tenant_id, campaign_id)
    by_run: dict[str, dict] = {}
    for item in CampaignBatch.query(pk, CampaignBatch.sk.startswith(
            CampaignBatch.stat_key(run_id) if run_id else "S#")):
        rid = item.sk.split("#")[1]
        total = by_run.setdefault(rid, _empty_counts())
        for name in ("sent", "failed", "clicked", "clicks", "deferred"):
            total[name] += int(getattr(item, name) or 0)
        for reason in rules.SKIP_REASONS:
            total["skipped"][reason] += int(getattr(item, f"skip_{reason}") or 0)
    return by_run


def _empty_counts() -> dict:
    return {"sent": 0, "failed": 0, "clicked": 0, "clicks": 0, "deferred": 0,
            "skipped": {r: 0 for r in rules.SKIP_REASONS}}


def _runs(tenant_id: str, campaign_id: str) -> list[Campaign]:
    return list(Campaign.query(tenant_id, Campaign.sk.startswith(Campaign.run_key(campaign_id))))


def _run_view(run: Campaign, counts: dict) -> dict:
    skipped_total = sum(counts["skipped"].values())
    queued = int(run.queued or 0)
    done = counts["sent"] + counts["failed"] + skipped_total
    return {"id": run.run_id, "trigger": run.trigger, "created_at": _iso(run.created_at),
            "status": _run_status(run, queued, done), "audience_size": int(run.audience_size or 0),
            "queued": queued, "sent": counts["sent"], "failed": counts["failed"],
            "skipped": {k: n for k, n in counts["skipped"].items() if n},
            "skipped_total": skipped_total, "deferred": counts["deferred"],
            "clicked": counts["clicked"], "clicks": counts["clicks"],
            "pending": max(0, queued - done), "deferred_until": _iso(run.deferred_until)}


def _run_status(run: Campaign, queued: int, done: int) -> str:
    if run.trigger == "event":
        return "live"
    if run.deferred_until and not run.pages:
        return "deferred"
    if not run.dispatched:
        return "dispatching"
    return "done" if done >= queued else "sending"


def list_runs(tenant_id: str, campaign_id: str) -> dict:
    load(tenant_id, campaign_id)
    runs = sorted(_runs(tenant_id, campaign_id), key=lambda r: r.created_at, reverse=True)
    counts = _stat_rows(tenant_id, campaign_id, None)
    return {"items": [_run_view(r, counts.get(r.run_id, _empty_counts())) for r in runs],
            "next_cursor": None}


def stats(tenant_id: str, campaign_id: str, run_id: str | None = None) -> dict:
    load(tenant_id, campaign_id)
    runs = _runs(tenant_id, campaign_id)
    if run_id is not None:
        runs = [r for r in runs if r.run_id == run_id]
        if not runs:
            raise NotFound(f"no such run: {run_id[:40]}", code="run-not-found", field="run_id")
    counts = _stat_rows(tenant_id, campaign_id, run_id)
    views = [_run_view(r, counts.get(r.run_id, _empty_counts())) for r in runs]
    total = {"campaign_id": campaign_id, "run_id": run_id, "runs": len(views)}
    for name in ("audience_size", "queued", "sent", "failed", "skipped_total", "deferred",
                 "clicked", "clicks", "pending"):
        total[name] = sum(v[name] for v in views)
    skipped: dict[str, int] = {}
    for v in views:
        for reason, n in v["skipped"].items():
            skipped[reason] = skipped.get(reason, 0) + n
    total["skipped"] = skipped
    return total


def delivery_view(run_id: str, user_id: str, row: dict | None) -> dict:
    row = row or {}
    status = {"s": "sent", "f": "failed", "k": "skipped", "c": "sending", "r": "pending",
              "d": "deferred"}.get(row.get("s"), "pending")
    return {"run_id": run_id, "user_id": user_id, "status": status, "reason": row.get("r"),
            "at": row.get("at"), "clicked_at": row.get("ck"), "detail": row.get("d")}


def deliveries(tenant_id: str, campaign_id: str, limit: int, cursor: str | None,
               run_id: str | None = None, status: str | None = None) -> dict:
    load(tenant_id, campaign_id)
    scope = f"deliveries|{campaign_id}|{run_id}|{status}"
    position = _from_cursor(tenant_id, scope, cursor) or {}
    prefix = CampaignBatch.batch_key(run_id) if run_id else "B#"
    start_sk, start_index = position.get("sk"), int(position.get("i", 0))
    cond = (CampaignBatch.sk.between(start_sk, prefix + "~") if start_sk
            else CampaignBatch.sk.startswith(prefix))
    items: list[dict] = []
    for batch in CampaignBatch.query(CampaignBatch.partition(tenant_id, campaign_id), cond):
        rows = batch.rows or {}
        rid = batch.sk.split("#")[1]
        users = batch.users or []
        first = start_index if batch.sk == start_sk else 0
        for index in range(first, len(users)):
            if len(items) == limit:
                return {"items": items, "next_cursor": _cursor(tenant_id, scope,
                                                               {"sk": batch.sk, "i": index})}
            item = delivery_view(rid, users[index], rows.get(users[index]))
            if status is None or item["status"] == status:
                items.append(item)
    return {"items": items, "next_cursor": None}


def outbox(tenant_id: str, limit: int, cursor: str | None, campaign_id: str | None,
           run_id: str | None) -> dict:
    if campaign_id is not None and not (is_id(campaign_id, CAMPAIGN_ID_LEN)
                                        or is_id(campaign_id, FISSION_TASK_ID_LEN)):
        raise ValidationFailed("'campaign_id' is not a campaign (or fission task) id",
                               field="campaign_id")
    if run_id is not None and campaign_id is None:
        raise ValidationFailed("'run_id' needs 'campaign_id'", field="run_id")
    scope = f"outbox|{campaign_id}|{run_id}"
    position = _from_cursor(tenant_id, scope, cursor)
    start = position and {"tenant_id": {"S": tenant_id}, "sk": {"S": position["sk"]}}
    cond = None
    if campaign_id:
        cond = OutboxItem.sk.startswith(OutboxItem.key(campaign_id, run_id or "", "")
                                        if run_id else OutboxItem.key(campaign_id))
    result = OutboxItem.query(tenant_id, cond, last_evaluated_key=start, limit=limit)
    items = [{"campaign_id": o.campaign_id, "run_id": o.run_id, "user_id": o.user_id,
              "text": o.text, "content": o.content, "source": o.source or "campaign",
              "created_at": _iso(o.created_at)}
             for o in result]
    last = result.last_evaluated_key
    return {"items": items, "next_cursor": _cursor(tenant_id, scope, {"sk": last["sk"]["S"]})
            if last else None}


# ---- unsubscribes -------------------------------------------------------------------------------

def set_unsubscribed(tenant_id: str, user_id: str, unsubscribed: bool) -> dict:
    """The mini-program user's choice; senders skip unsubscribed users (reason ``unsubscribed``)."""
    from chalicelib.audience import store as audience
    from chalicelib.campaigns import contacts

    user_id = audience.load(tenant_id, user_id).user_id  # follows merges
    contacts.set_unsubscribed(tenant_id, user_id, unsubscribed)
    return {"user_id": user_id, "unsubscribed": unsubscribed}


def subscription(tenant_id: str, user_id: str) -> dict:
    from chalicelib.campaigns import contacts

    gone = contacts.unsubscribed(tenant_id, [user_id], max_age=0)
    return {"user_id": user_id, "unsubscribed": user_id in gone}


def event_cutoff(now: datetime) -> datetime:
    """Events whose send time is older than this are too late to act on (replays, backfills)."""
    return now - timedelta(days=1)


# ---- tracked clicks -----------------------------------------------------------------------------

def click(token: str) -> str:
    """The target of a tracked link; counts the click and tags the user (best effort: the visitor
    is redirected even if recording fails)."""
    import logging

    from chalicelib.campaigns import links

    parsed = links.parse(app_secret(), token)
    missing = NotFound("this link is not valid", code="link-not-found")
    if parsed is None:
        raise missing
    try:
        run = Campaign.get(parsed.tenant_id, Campaign.run_key(parsed.campaign_id, parsed.run_id))
    except DoesNotExist:
        raise missing from None
    urls = (run.snapshot or {}).get("links") or []
    if parsed.link >= len(urls):
        raise missing
    try:
        _record_click(parsed)
    except Exception:  # noqa: BLE001 - never strand the visitor on a storage hiccup
        logging.getLogger("yutang.campaigns").exception("recording a click failed")
    return urls[parsed.link]


def _record_click(c: Any) -> None:
    from chalicelib.campaigns import sender

    now = clock.now()
    pk = CampaignBatch.partition(c.tenant_id, c.campaign_id)
    first = False
    if c.user_id != "-":
        for _ in range(3):
            state = sender.State.load(pk, CampaignBatch.batch_key(c.run_id, c.batch), [])
            current = state.rows.get(c.user_id)
            if state.rev is None or current is None or current.get("ck"):
                break
            rows = {c.user_id: {**current, "ck": now.isoformat(timespec="seconds")}}
            items = [state.put(rows), sender.stat_update(pk, c.run_id, c.batch,
                                                         {"clicks": 1, "clicked": 1})]
            if sender.transact(items):
                first = True
                break
    if not first:
        sender.transact([sender.stat_update(pk, c.run_id, c.batch, {"clicks": 1})])
    if first:
        from chalicelib.audience import activity as audience

        try:
            audience.record_event(c.tenant_id, c.user_id, "campaign_clicked",
                                  properties={"campaign_id": c.campaign_id, "run_id": c.run_id},
                                  channel_tags=[f"clicked:{c.campaign_id}"])
        except NotFound:
            pass
