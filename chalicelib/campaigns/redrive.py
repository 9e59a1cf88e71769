"""Run leases: a campaign run whose work stalled is re-driven by the minute tick.

Work moves through SQS messages (dispatch pages, recipient batches). A Lambda that dies between two
steps (a timeout, a crash after a write and before its messages were queued) or a message that is
lost (dead-lettered, or a local stack killed with its queue) would leave the run stuck in
``dispatching`` or ``sending``. So every run is watched:

- :func:`chalicelib.campaigns.dispatch.start_run` writes the run together with a due item of kind
  ``lease`` at ``lease_until`` = start + ``run_lease_seconds`` (``YUTANG_RUN_LEASE_SECONDS``,
  default 900). The due table is the sharded time index the tick already reads (no Scan).
- When the tick reaches it, :func:`check` reads the run and its 8 stats shards. A finished run
  (dispatched, every queued recipient final) is left alone and the watch ends. A run with activity
  within the lease — a dispatch step (``updated_at``) or a delivery write (the shards' ``last_at``)
  — or a dispatch waiting for quiet hours to end is only re-armed: the lease runs from the last
  activity, so a large run that is merely slow is never re-driven.
- A run idle for a whole lease is re-driven: the missing dispatch page (the first, or the
  continuation after the last stored page) and every recipient batch that is missing or has
  unfinished rows are queued again, from what the store holds (the page items keep their recipient
  ids, the run its message snapshot). Re-driving is safe because every step is idempotent: a page
  replay re-uses its ids, a batch replay only meets rows already written (final rows are left
  alone, stale claims of non-idempotent channels end as ``outcome_unknown``), so each recipient is
  still sent at most once.
- After ``MAX_REDRIVES`` re-drives without progress, the last one marks its batches as a last try
  (whatever fails then is recorded failed), and the watch ends: a run never loops forever.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.campaigns import batches, due, sends
from chalicelib.campaigns.models import Campaign, CampaignBatch, DueItem
from chalicelib.campaigns.wire import BatchMessage, DispatchMessage, Message, Row, Status
from chalicelib.settings import get_settings

log = logging.getLogger("yutang.campaigns")

MAX_REDRIVES = 3


def lease_end(start: datetime) -> datetime:
    return start + timedelta(seconds=get_settings().run_lease_seconds)


def watch(tenant_id: str, campaign_id: str, run_id: str, at: datetime) -> DueItem:
    """The due item that checks the run at ``at``."""
    return due.item(at, tenant_id, campaign_id, "lease", f"l#{run_id}", body={"r": run_id})


def check(item: DueItem, now: datetime) -> str:
    """Tick: look at one watched run. Answers what was done: gone | done | waiting | redriven |
    given_up (the caller deletes ``item``; a new watch is written when one is still needed)."""
    tenant_id, campaign_id, run_id = item.tenant_id, item.campaign_id, (item.body or {})["r"]
    try:
        run = Campaign.get(tenant_id, Campaign.run_key(campaign_id, run_id), consistent_read=True)
    except DoesNotExist:
        return "gone"  # the campaign (and its runs) were deleted
    done, last_write = batches.progress(tenant_id, campaign_id, run_id)
    if run.dispatched and done >= int(run.queued or 0):
        return "done"
    lease = timedelta(seconds=get_settings().run_lease_seconds)
    activity = max(_aware(run.updated_at or run.created_at or now), last_write or
                   datetime.min.replace(tzinfo=timezone.utc))
    if run.deferred_until and _aware(run.deferred_until) > now:
        return _rearm(run, _aware(run.deferred_until) + lease, reset=True, result="waiting")
    if activity + lease > now:
        return _rearm(run, activity + lease, reset=True, result="waiting")
    attempt = int(run.redrives or 0) + 1
    last = attempt >= MAX_REDRIVES
    queued = redrive(run, now, last_try=last)
    if not queued:  # every batch is final or waiting (quiet hours, a live claim): look again later
        return _rearm(run, now + lease, reset=True, result="waiting")
    log.warning("campaign %s run %s idle since %s: re-driven (%d messages, attempt %d)",
                campaign_id, run_id, activity.isoformat(), queued, attempt)
    if last:
        run.update(actions=[Campaign.redrives.set(attempt), Campaign.lease_until.remove()])
        log.error("campaign %s run %s: last re-drive; the tick stops watching it", campaign_id,
                  run_id)
        return "given_up"
    return _rearm(run, now + lease, reset=False, result="redriven", attempt=attempt)


def _rearm(run: Campaign, at: datetime, *, reset: bool, result: str, attempt: int = 0) -> str:
    """A new watch at ``at`` (and the run's ``lease_until``); the caller deletes the old one."""
    watch(run.tenant_id, run.campaign_id, run.run_id, at).save()
    run.update(actions=[Campaign.lease_until.set(at),
                        Campaign.redrives.set(0 if reset else attempt)])
    return result


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def redrive(run: Campaign, now: datetime, last_try: bool = False) -> int:
    """Queue again what a stalled run is missing; answers how many messages were queued."""
    pk = CampaignBatch.partition(run.tenant_id, run.campaign_id)
    pages = list(CampaignBatch.query(pk, CampaignBatch.sk.startswith(
        CampaignBatch.page_prefix(run.run_id)), consistent_read=True))
    messages = _missing_page(run, pages) + _unfinished_batches(run, pk, pages, now, last_try)
    sends.send_messages(messages)
    return len(messages)


def _missing_page(run: Campaign, pages: list[CampaignBatch]) -> list[Message]:
    """The dispatch page a run that is still dispatching lacks (the first, or the next one)."""
    snap = run.snapshot or {}
    if run.dispatched:
        return []
    if not pages:
        return [DispatchMessage(run.tenant_id, run.campaign_id, run.run_id, 0, snap)]
    if pages[-1].more:
        last_no = CampaignBatch.page_of(pages[-1].sk)
        return [DispatchMessage(run.tenant_id, run.campaign_id, run.run_id, last_no + 1, snap,
                                pages[-1].next_after)]
    return []


def _unfinished_batches(run: Campaign, pk: str, pages: list[CampaignBatch], now: datetime,
                        last_try: bool) -> list[Message]:
    snap = run.snapshot or {}
    size = batches.batch_size(snap["channel"])
    stored = {b.sk: b for b in CampaignBatch.query(pk, CampaignBatch.sk.startswith(
        CampaignBatch.batch_key(run.run_id)), consistent_read=True)}
    messages: list[Message] = []
    for page in pages:
        page_no = CampaignBatch.page_of(page.sk)
        users = list(page.users or [])
        for i in range(0, len(users), size):
            name = batches.batch_name(page_no, i // size)
            item = stored.get(CampaignBatch.batch_key(run.run_id, name))
            if _unfinished(item, users[i:i + size], now):
                messages.append(BatchMessage(run.tenant_id, run.campaign_id, run.run_id, name,
                                             users[i:i + size], snap, reload=True,
                                             last_try=last_try))
    return messages


def _unfinished(item: Any, users: list[str], now: datetime) -> bool:
    """A batch that needs its message again: never written, or rows neither final nor waiting
    (deferred to a later time, or claimed under a live lease)."""
    if item is None:
        return True
    rows = item.rows or {}
    stamp = now.timestamp()
    for user in users:
        row = Row.from_record(rows[user]) if rows.get(user) else None
        if row is None:
            return True
        if row.final:
            continue
        if row.status == Status.DEFERRED and row.until and datetime.fromisoformat(row.until) > now:
            continue
        if row.status == Status.CLAIMED and int(row.lease or 0) > stamp:
            continue
        return True
    return False
