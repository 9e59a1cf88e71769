"""Dispatch: runs, the minute tick's due items, user-event triggers, and the sends queue.

- :func:`start_run` records a run (its message snapshot) and queues the first dispatch page.
- A dispatch page resolves up to ``page`` recipients from the audience indexes (never a Scan),
  stores their ids in a page item (a replay re-uses them: the same batches, the same ids) together
  with the run's counters in one transaction, and queues the recipient batches plus the next page
  (a continuation) in SendMessageBatch calls — no invocation loops over a whole audience.
- :func:`run_due` (tick job) handles due items: scheduled fires, ``after_event`` sends,
  dispatches/batches that waited for quiet hours to end, and run leases (a run idle for
  ``run_lease_seconds`` is re-driven: :mod:`chalicelib.campaigns.redrive`).
- :func:`on_user_events` (``user_event`` handler) turns a matching event into a due item per
  (campaign, user): once per user per ``after_event`` campaign.
- :func:`handle_messages` is the ``yutang-sends`` consumer; like dispatcher.dispatch it deletes the
  messages that succeeded before raising, so a whole-batch retry re-delivers only the failures.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib import clock
from chalicelib.campaigns import batches, due, links, planning, redrive, rules, schedule, sends
from chalicelib.campaigns.models import Campaign, CampaignBatch, DueItem
from chalicelib.campaigns.wire import BatchMessage, DispatchMessage, Message, message_from_record
from chalicelib.db import condition_failed
from chalicelib.errors import Conflict

log = logging.getLogger("yutang.campaigns")

EVENT_RUN = "ev"
PAGE_BATCHES = 9  # a page's batches and its continuation fit one SendMessageBatch (10)
TICK_LIMIT = 200


# ---- snapshots and runs -------------------------------------------------------------------------

def snapshot(c: Campaign, links_before: list[str] | None = None) -> dict:
    """Everything a sender needs, resolved once per run: message, links, caps, quiet hours."""
    cfg = planning.messaging_settings(c.tenant_id)
    caps = rules.effective_caps(cfg["caps"], cfg["channel_caps"].get(c.channel), c.caps)
    quiet = c.quiet_hours if c.quiet_hours is not None else cfg["quiet_hours"]
    message = c.message or {}
    content = None
    if message.get("content_id"):
        content = _content(c.tenant_id, message["content_id"])
    found = list(links_before or [])
    for url in links.find(message.get("text")) + ([content["url"]] if content and
                                                   content.get("url") else []):
        if url not in found:
            found.append(url)
    return {"name": c.name, "channel": c.channel, "text": message.get("text"), "content": content,
            "links": found, "caps": caps.as_dict(), "quiet": quiet or None, "tz": c.timezone,
            "ctz": planning.tenant_timezone(c.tenant_id), "webhook_url": c.webhook_url,
            "audience": c.audience or {}, **_extras(message)}


def _extras(message: dict) -> dict:
    """Smart push (``pick``: pool, window, fallback) and coupons (``coupon``), when the message
    has them: chosen per recipient by the sender."""
    extras: dict = {}
    if message.get("pick"):
        extras["pick"] = {k: message.get(k) for k in (
            "pick", "pool", "avoid_sent_within_days", "fallback_content_id")}
    if message.get("coupon"):
        extras["coupon"] = message["coupon"]
    return extras


def _content(tenant_id: str, content_id: str) -> dict | None:
    from chalicelib.content import service as content
    from chalicelib.errors import NotFound

    try:
        item = content.get_item(tenant_id, content_id)
    except NotFound:
        return None
    return {k: item.get(k) for k in ("id", "type", "title", "body", "url")}


def start_run(c: Campaign, trigger: str, run_id: str) -> str:
    """Record the run (idempotent by run id) with its lease check, and queue its first dispatch
    page. The run and its lease due item are written together, so no run exists unwatched."""
    now = clock.now()
    lease_until = redrive.lease_end(now)
    run = Campaign(tenant_id=c.tenant_id, sk=Campaign.run_key(c.campaign_id, run_id),
                   campaign_id=c.campaign_id, run_id=run_id, trigger=trigger,
                   snapshot=snapshot(c), created_at=now, updated_at=now, audience_size=0,
                   queued=0, pages=0, dispatched=False, lease_until=lease_until, redrives=0)
    try:
        with Campaign.transaction() as tx:
            tx.save(run, condition=Campaign.sk.does_not_exist())
            tx.save(redrive.watch(c.tenant_id, c.campaign_id, run_id, lease_until))
    except TransactWriteError as exc:
        if not condition_failed(exc):
            raise
    Campaign(tenant_id=c.tenant_id, sk=c.sk).update(actions=[Campaign.last_run_id.set(run_id)])
    sends.send_messages([DispatchMessage(c.tenant_id, c.campaign_id, run_id, 0, run.snapshot)])
    return run_id


def dispatch_page(msg: DispatchMessage) -> None:
    run = Campaign(tenant_id=msg.tenant_id, sk=Campaign.run_key(msg.campaign_id, msg.run_id))
    snap, now = msg.snapshot, clock.now()
    if planning.current_status(msg.tenant_id, msg.campaign_id) != "active":
        run.update(actions=[Campaign.dispatched.set(True)])
        return
    until = schedule.quiet_until(now, schedule.quiet_from_stored(snap.get("quiet")), snap["tz"])
    if until is not None:  # its recipients waited: counted as deferred, with the page
        due.item(until, msg.tenant_id, msg.campaign_id, "dispatch",
                 f"d#{msg.run_id}#{msg.page}", body=replace(msg, quiet=True).to_record()).save()
        run.update(actions=[Campaign.deferred_until.set(until)])
        return
    size = batches.batch_size(snap["channel"])
    ids = _resolve(msg, size * PAGE_BATCHES)
    page = _store_page(msg, run, ids, now)
    users = list(page.users or [])
    messages: list[Message] = []
    for i in range(0, len(users), size):
        messages.append(BatchMessage(msg.tenant_id, msg.campaign_id, msg.run_id,
                                     batches.batch_name(msg.page, i // size), users[i:i + size],
                                     snap))
    if page.more:
        messages.append(msg.next_page(page.next_after))
    sends.send_messages(messages)


def _resolve(msg: DispatchMessage, limit: int) -> list[str]:
    """Up to ``limit`` recipient ids after ``msg.after``, and one more if a next page follows."""
    from chalicelib.audience import segments as audience

    aud = msg.snapshot.get("audience") or {}
    wanted = limit + 1
    return list(islice(audience.iter_audience(
        msg.tenant_id, aud.get("tags_all") or (), aud.get("tags_any") or (),
        aud.get("tags_none") or (), aud.get("stages") or (), after=msg.after, limit=wanted),
        wanted))


def _store_page(msg: DispatchMessage, run: Campaign, ids: list[str], now: datetime
                ) -> CampaignBatch:
    """The page item with the run's counters, once; a replay gets the stored page (same ids)."""
    limit = batches.batch_size(msg.snapshot["channel"]) * PAGE_BATCHES
    more = len(ids) > limit
    ids = ids[:limit]
    page = CampaignBatch(pk=CampaignBatch.partition(msg.tenant_id, msg.campaign_id),
                         sk=CampaignBatch.page_key(msg.run_id, msg.page), users=ids, more=more,
                         next_after=ids[-1] if more else None)
    try:
        with Campaign.transaction() as tx:
            tx.save(page, condition=CampaignBatch.sk.does_not_exist())
            tx.update(run, actions=[
                Campaign.audience_size.add(len(ids)), Campaign.queued.add(len(ids)),
                Campaign.pages.add(1), Campaign.dispatched.set(not more),
                Campaign.deferred_until.remove(), Campaign.updated_at.set(now)])
            if msg.quiet and ids:  # waited for quiet hours: counted once, with the page
                shard = CampaignBatch(pk=page.pk,
                                      sk=CampaignBatch.stat_key(msg.run_id, f"q{msg.page}"))
                tx.update(shard, actions=[CampaignBatch.deferred.add(len(ids))])
    except TransactWriteError as exc:
        if not condition_failed(exc):
            raise
        page = CampaignBatch.get(page.pk, page.sk, consistent_read=True)
    return page


# ---- the sends queue ----------------------------------------------------------------------------

def handle_messages(event: Iterable[Any]) -> None:
    from chalicelib.campaigns import sender

    done, failed = [], []
    for record in event:
        try:
            msg = message_from_record(json.loads(record.body))
            receives = int(record.to_dict().get("attributes", {}).get("ApproximateReceiveCount", 1))
            if isinstance(msg, DispatchMessage):
                dispatch_page(msg)
            else:
                sender.process(msg, receives)
            done.append(record)
        except Exception:  # noqa: BLE001 - logged; SQS retries it, then dead-letters it
            log.exception("campaign message %s failed", getattr(record, "message_id", "?"))
            failed.append(record)
    if failed:
        sends.delete(done)
        raise RuntimeError(f"{len(failed)} of {len(done) + len(failed)} campaign messages failed")


# ---- the tick -----------------------------------------------------------------------------------

def run_due(now: datetime) -> int:
    """Tick job: act on every due item up to now, then delete them."""
    items = list(due.due_now(now, TICK_LIMIT))
    events: dict[tuple[str, str], list[DueItem]] = {}
    resumed = [i for i in items if i.kind in ("dispatch", "batch")]
    handled: list[DueItem] = []
    errors: list[Exception] = []
    for item in items:
        if item.kind == "event":
            events.setdefault((item.tenant_id, item.campaign_id), []).append(item)
        elif item.kind == "fire":
            _guard(lambda item=item: _fire(item, now), [item], handled, errors)
        elif item.kind == "lease":
            _guard(lambda item=item: redrive.check(item, now), [item], handled, errors)
    for (tenant_id, campaign_id), group in events.items():
        _guard(lambda t=tenant_id, c=campaign_id, g=group: _fire_events(
            t, c, [i.user_id for i in g], now), group, handled, errors)
    if resumed:
        _guard(lambda: sends.send_messages([_resumed(i) for i in resumed]), resumed, handled,
               errors)
    with DueItem.batch_write() as batch:
        for item in handled:
            batch.delete(item)
    if errors:
        raise errors[0]
    return len(handled)


def _resumed(item: DueItem) -> Message:
    """The message a quiet-hours due item kept (old or new shape), to be read again."""
    return replace(message_from_record(item.body or {}), reload=True)


def _guard(action: Any, items: list[DueItem], handled: list, errors: list) -> None:
    """Run one due action; its items are deleted only when it succeeded (else the next tick)."""
    try:
        action()
        handled.extend(items)
    except Exception as exc:  # noqa: BLE001 - other due items still run; re-raised by run_due
        log.exception("due item(s) %s failed", items[0].key)
        errors.append(exc)


def _fire(item: DueItem, now: datetime) -> None:
    try:
        c = Campaign.get(item.tenant_id, Campaign.campaign_key(item.campaign_id),
                         consistent_read=True)
    except DoesNotExist:
        return
    if c.status != "active" or c.due_key != due.ref(item):
        return  # stale: the campaign was paused or re-planned since
    fire_at = datetime.fromtimestamp(DueItem.epoch_of(item.key), tz=now.tzinfo)
    c.last_run_id = start_run(c, trigger="schedule", run_id="s" + fire_at.strftime("%Y%m%d%H%M"))
    old = {"due_key": c.due_key, "trigger": None}
    c.fired = True
    try:
        planning.save(c, old, now, plan_from=max(now, fire_at))
    except Conflict:
        log.info("campaign %s changed while firing; its new schedule stands", c.campaign_id)


def _fire_events(tenant_id: str, campaign_id: str, user_ids: list[str], now: datetime) -> None:
    try:
        c = Campaign.get(tenant_id, Campaign.campaign_key(campaign_id), consistent_read=True)
    except DoesNotExist:
        return
    if c.status != "active" or schedule.from_stored(c.schedule).kind != "after_event":
        return
    run = _event_run(c, len(user_ids), now)
    snap = {**run.snapshot, "ev": True}
    sends.send_messages([BatchMessage(tenant_id, campaign_id, EVENT_RUN, f"u.{u}", [u], snap)
                         for u in user_ids])


def _event_run(c: Campaign, n: int, now: datetime) -> Campaign:
    """The standing run of an after_event campaign, its snapshot refreshed (links only grow, so
    older tracked links keep their index)."""
    key = Campaign.run_key(c.campaign_id, EVENT_RUN)
    try:
        run = Campaign.get(c.tenant_id, key, consistent_read=True)
        before = (run.snapshot or {}).get("links")
    except DoesNotExist:
        run, before = None, None
    snap = snapshot(c, before)
    if run is None:
        run = Campaign(tenant_id=c.tenant_id, sk=key, campaign_id=c.campaign_id, run_id=EVENT_RUN,
                       trigger="event", created_at=now, dispatched=True, pages=1)
    run.update(actions=[Campaign.snapshot.set(snap), Campaign.trigger.set("event"),
                        Campaign.campaign_id.set(c.campaign_id), Campaign.run_id.set(EVENT_RUN),
                        Campaign.created_at.set(Campaign.created_at | now),
                        Campaign.dispatched.set(True), Campaign.pages.set(1),
                        Campaign.audience_size.add(n), Campaign.queued.add(n)])
    run.snapshot = snap
    return run


# ---- user events → after_event due items --------------------------------------------------------

def on_user_events(payloads: list[dict]) -> None:
    """``user_event`` handler: for each active after_event campaign of the event's type, a due item
    (campaign, user) at ``at + delay`` — written only if none is pending (once per user)."""
    now = clock.now()
    for p in payloads:
        tenant_id, user_id, event_type = p.get("tenant_id"), p.get("user_id"), p.get("event_type")
        if not (tenant_id and user_id and event_type):
            continue
        at = datetime.fromisoformat(p["at"]) if p.get("at") else now
        for trigger in Campaign.query(tenant_id, Campaign.sk.startswith(
                Campaign.trigger_key(event_type))):
            send_at = at + timedelta(minutes=int(trigger.delay_minutes or 0))
            if send_at < planning.event_cutoff(now):
                continue
            due.item(send_at, tenant_id, trigger.campaign_id, "event", f"e#{user_id}",
                     user_id=user_id).save()
