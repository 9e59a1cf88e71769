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

from chalicelib.campaigns import due
from chalicelib.campaigns.models import STAT_SHARDS, Campaign, CampaignBatch, DueItem
from chalicelib.settings import get_settings

log = logging.getLogger("yutang.campaigns")

MAX_REDRIVES = 3
FINAL = {"s", "f", "k"}


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
    done, last_write = _progress(tenant_id, campaign_id, run_id)
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


def _progress(tenant_id: str, campaign_id: str, run_id: str) -> tuple[int, datetime | None]:
    """Recipients in a final state, and the latest delivery write, from the run's stats shards."""
    from chalicelib.campaigns import rules

    done, last = 0, 0
    for shard in CampaignBatch.query(CampaignBatch.partition(tenant_id, campaign_id),
                                     CampaignBatch.sk.startswith(CampaignBatch.stat_key(run_id)),
                                     consistent_read=True, limit=STAT_SHARDS):
        done += int(shard.sent or 0) + int(shard.failed or 0)
        done += sum(int(getattr(shard, f"skip_{r}") or 0) for r in rules.SKIP_REASONS)
        last = max(last, int(shard.last_at or 0))
    return done, datetime.fromtimestamp(last, tz=timezone.utc) if last else None


def redrive(run: Campaign, now: datetime, last_try: bool = False) -> int:
    """Queue again what a stalled run is missing; answers how many messages were queued."""
    from chalicelib.campaigns import dispatch, sender

    tenant_id, campaign_id, run_id = run.tenant_id, run.campaign_id, run.run_id
    snap = run.snapshot or {}
    pk = CampaignBatch.partition(tenant_id, campaign_id)
    size = sender.batch_size(snap["channel"])
    base = {"t": tenant_id, "c": campaign_id, "r": run_id, "m": snap}
    messages: list[dict] = []
    pages = list(CampaignBatch.query(pk, CampaignBatch.sk.startswith(f"P#{run_id}#"),
                                     consistent_read=True))
    if not run.dispatched:
        if not pages:
            messages.append({**base, "k": "dispatch", "p": 0})
        elif pages[-1].more:
            last_no = int(pages[-1].sk.rsplit("#", 1)[1])
            messages.append({**base, "k": "dispatch", "p": last_no + 1, "a": pages[-1].next_after})
    batches = {b.sk: b for b in CampaignBatch.query(pk, CampaignBatch.sk.startswith(
        CampaignBatch.batch_key(run_id)), consistent_read=True)}
    for page in pages:
        page_no = int(page.sk.rsplit("#", 1)[1])
        users = list(page.users or [])
        for i in range(0, len(users), size):
            name = f"{page_no:05d}.{i // size:02d}"
            stored = batches.get(CampaignBatch.batch_key(run_id, name))
            if _unfinished(stored, users[i:i + size], now):
                msg = {**base, "k": "batch", "b": name, "u": users[i:i + size], "x": 1}
                if last_try:
                    msg["lt"] = 1
                messages.append(msg)
    dispatch.send_messages(messages)
    return len(messages)


def _unfinished(item: Any, users: list[str], now: datetime) -> bool:
    """A batch that needs its message again: never written, or rows neither final nor waiting
    (deferred to a later time, or claimed under a live lease)."""
    if item is None:
        return True
    rows = item.rows or {}
    stamp = now.timestamp()
    for user in users:
        row = rows.get(user) or {}
        status = row.get("s")
        if status in FINAL:
            continue
        if status == "d" and row.get("until") and datetime.fromisoformat(row["until"]) > now:
            continue
        if status == "c" and int(row.get("lease", 0)) > stamp:
            continue
        return True
    return False
