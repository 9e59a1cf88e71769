"""The sender: delivers one recipient batch, at most once per recipient, with caps, quiet hours and
unsubscribes honoured.

A batch is a fixed list of user ids (from a dispatch page, so a replay rebuilds the same batch). Its
item holds one row per recipient — the delivery records (:class:`~chalicelib.campaigns.wire.Row`):
SENT, FAILED, SKIPPED (with a reason), DEFERRED, CLAIMED (being sent, under a lease), RETRY (claimed
and known unsent). Every write of the item is conditional on its ``rev`` and carries the matching
stats increments in the same transaction (one small item each), so rows and stats never disagree.

A batch goes: skip who is unsubscribed, capped or unreachable on the channel; *claim* the rest
(rows CLAIMED); write their counters (contacts) — and for the outbox channel the outbox items, whose
keys make a rewrite harmless — with BatchWriteItem; then send (webhook, wecom) and record the
outcomes (SENT/FAILED), or for the outbox simply mark them sent.

Whole-batch redelivery (Chalice has no partial-batch response) and duplicate messages only ever
meet rows already written: final rows are left alone; RETRY rows are sent again (their caps were
counted); CLAIMED rows under a live lease belong to another sender (the message is retried later);
CLAIMED rows whose lease ran out belong to a sender that died — the outbox redoes them (idempotent
writes, counters guarded by the batch marker), the others record ``outcome_unknown`` rather than
risk a second message.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib import channels, clock
from chalicelib.campaigns import (
    breaker,
    due,
    frequency,
    links,
    outcomes,
    picking,
    planning,
    rules,
    schedule,
    sends,
    unsubscribes,
)
from chalicelib.campaigns.batches import State, row
from chalicelib.campaigns.models import CampaignBatch
from chalicelib.campaigns.outcomes import BatchBusy, StateChanged
from chalicelib.campaigns.picking import Personal
from chalicelib.campaigns.wire import FINAL, BatchMessage, Row, Status
from chalicelib.coupons import codes as coupon_codes
from chalicelib.secret_store import app_secret
from chalicelib.settings import get_settings

log = logging.getLogger("yutang.campaigns")

MAX_RECEIVES = 4  # the 5th receive would dead-letter: finish instead (retryable rows fail)
ATTEMPTS = 4  # a recipient a channel asks to retry is tried at most this often, then failed
MAX_DELAY = 900  # SQS DelaySeconds ceiling
_UNSENT = (None, Status.DEFERRED)


def retry_delay(attempt: int) -> int:
    """Seconds before attempt ``attempt + 1``: base × 4^(attempt-1), i.e. 30 s, 2 min, 8 min by
    default — so a receiver gets a message at most twice within a minute, however it behaves."""
    base = get_settings().webhook_retry_base_seconds
    return int(min(base * 4 ** (attempt - 1), MAX_DELAY))


# ---- rendering ----------------------------------------------------------------------------------

def render(d: channels.Delivery, user_id: str,
           picked: dict | None = None) -> tuple[str | None, dict | None]:
    """Text and content with tracked links; ``picked``: the recipient's smart-push item (its link
    is tracked through their delivery row, :data:`links.PICKED`, when the user is known)."""
    snap = d.snapshot
    cfg = get_settings()

    def tracked(index: int) -> str:
        click = links.Click(d.tenant_id, d.campaign_id, d.run_id, d.batch, user_id, index)
        return f"{cfg.public_url}/c/{links.token(app_secret(), click)}"

    text = snap.get("text")
    if text:
        text = links.rewrite(text, snap.get("links") or [], tracked)
    content = snap.get("content") if picked is None else picked
    if content:
        content = dict(content)
        if content.get("url") in (snap.get("links") or []):
            content["url"] = tracked(snap["links"].index(content["url"]))
        elif picked is not None and content.get("url") and user_id != links.NO_USER:
            content["url"] = tracked(links.PICKED)
    return text, content


def recipient(d: channels.Delivery, user: str, personal: Personal) -> channels.Recipient:
    text, content = render(d, links.NO_USER if d.snapshot["channel"] == "wecom" else user,
                           personal.content(user) if picking.smart(d) else None)
    if user in personal.coupons:
        text = coupon_codes.fill(text, personal.coupons[user])
    return channels.Recipient(user, personal.identities(user), text, content)


# ---- the batch ----------------------------------------------------------------------------------

def process(msg: BatchMessage, receive_count: int = 1) -> None:
    if msg.last_try:  # the tick's last re-drive of a stalled run: whatever fails now is final
        receive_count = max(receive_count, MAX_RECEIVES)
    for _ in range(5):
        try:
            return _process(msg, receive_count)
        except StateChanged:
            msg = replace(msg, reload=True)  # reload the batch next time
    raise BatchBusy("the batch keeps changing under this sender")


def _process(msg: BatchMessage, receive_count: int) -> None:
    d = channels.Delivery(msg.tenant_id, msg.campaign_id, msg.run_id, msg.batch, msg.snapshot,
                          breaker)
    now = clock.now()
    pk = CampaignBatch.partition(d.tenant_id, d.campaign_id)
    sk = CampaignBatch.batch_key(d.run_id, d.batch)
    # A first delivery writes with "not exists"; a redelivery reads what earlier attempts did.
    fresh = receive_count == 1 and not msg.reload
    state = State(pk, sk, msg.users) if fresh else State.load(pk, sk, msg.users)
    status = planning.current_status(d.tenant_id, d.campaign_id)
    if status != "active":
        return _skip_all(d, state, now, f"campaign_{status}")
    until = schedule.quiet_until(now, schedule.quiet_from_stored(d.snapshot.get("quiet")),
                                 d.snapshot["tz"])
    if until is not None:
        return _defer(d, state, msg, now, until)
    adapter = channels.get(d.snapshot["channel"])
    redo = _settle_stale(d, state, adapter, now)
    pending = [u for u in state.users if state.status(u) in _UNSENT]
    retry = [u for u in state.users if state.status(u) == Status.RETRY
             and int(state.rows[u].next_at or 0) <= now.timestamp()]  # later: a delayed message
    personal = Personal(_profiles(d, adapter, pending + retry + redo))
    skips = _prechecks(d, adapter, pending, personal.profiles, now)
    deliver, known = _apply_caps(d, [u for u in pending if u not in skips], skips, now)
    deliver = picking.choose(d, state, personal, deliver, retry + redo, known, skips, now)
    deliver = picking.grant_coupons(d, personal, deliver, retry + redo, skips, now)
    claimed = deliver + retry + redo
    if adapter.IDEMPOTENT:  # no claim needed: rewriting is harmless, the marker stops recounting
        _write_contacts(d, claimed, known, adapter, personal, now)
        return outcomes.record(d, state, {**skips, **{
            u: row(Status.SENT, now, **personal.parts(u)) for u in claimed}})
    outcomes.commit(d, state, {**skips, **{u: _claim(state, u, now, personal) for u in claimed}})
    if not claimed:
        return None
    _write_contacts(d, deliver, known, adapter, personal, now)
    return _send(d, state, adapter, claimed, personal, now, receive_count, msg)


def _claim(state: State, user: str, now: datetime, personal: Personal) -> Row:
    before = state.rows.get(user)
    lease = int(now.timestamp()) + get_settings().send_lease_seconds
    return row(Status.CLAIMED, now, lease=lease, attempts=before.attempts if before else None,
               **personal.parts(user))


def _skip_all(d: channels.Delivery, state: State, now: datetime, reason: str) -> None:
    state = State.load(state.pk, state.sk, state.users) if state.rev is None else state
    outcomes.commit(d, state, {u: row(Status.SKIPPED, now, reason) for u in state.users
                               if state.status(u) not in FINAL | {Status.CLAIMED}})


def _defer(d: channels.Delivery, state: State, msg: BatchMessage, now: datetime,
           until: datetime) -> None:
    """Quiet hours: the batch waits in a due item until they end (deferred, not dropped)."""
    due.item(until, d.tenant_id, d.campaign_id, "batch", f"b#{d.run_id}#{d.batch}",
             body=replace(msg, reload=False).to_record()).save()
    state = State.load(state.pk, state.sk, state.users) if state.rev is None else state
    outcomes.commit(d, state, {u: row(Status.DEFERRED, now, "quiet_hours_deferred",
                                      until=until.isoformat())
                               for u in state.users if state.status(u) is None})


def _settle_stale(d: channels.Delivery, state: State, adapter: Any, now: datetime) -> list[str]:
    """Claimed rows left by an earlier attempt: busy, redone (idempotent channel) or unknown."""
    claimed = [u for u in state.users if state.status(u) == Status.CLAIMED]
    if not claimed:
        return []
    if any(int(state.rows[u].lease or 0) > now.timestamp() for u in claimed):
        raise BatchBusy(f"batch {state.sk} is being sent by another sender")
    if adapter.IDEMPOTENT:
        return claimed
    log.warning("batch %s: %d claimed recipients with unknown outcome; not resending",
                state.sk, len(claimed))
    outcomes.commit(d, state, {u: row(Status.FAILED, now, "outcome_unknown",
                                      pick=state.rows[u].pick) for u in claimed})
    return []


def _profiles(d: channels.Delivery, adapter: Any, users: list[str]) -> dict[str, dict] | None:
    if not users or not (adapter.NEEDS_PROFILE or d.snapshot.get("ev") or picking.smart(d)):
        return None
    from chalicelib.audience import users as audience

    # smart push reads every recipient's profile: by id range (a batch is a slice in id order)
    return audience.get_users(d.tenant_id, users, contiguous=picking.smart(d))


def _prechecks(d: channels.Delivery, adapter: Any, pending: list[str],
               profiles: dict[str, dict] | None, now: datetime) -> dict[str, Row]:
    skips: dict[str, Row] = {}
    gone = unsubscribes.unsubscribed(d.tenant_id, pending) if pending else set()
    for u in pending:
        profile = None if profiles is None else profiles.get(u)
        if u in gone:
            skips[u] = row(Status.SKIPPED, now, "unsubscribed")
        elif profiles is not None and profile is None:
            skips[u] = row(Status.SKIPPED, now, "user_not_found")
        elif profile and d.snapshot.get("ev") and not rules.matches(
                d.snapshot.get("audience") or {}, profile["tags"], profile["stage"]):
            skips[u] = row(Status.SKIPPED, now, "not_in_audience")
        elif profile and adapter.IDENTITY and not profile["identities"].get(adapter.IDENTITY):
            skips[u] = row(Status.SKIPPED, now, "no_identity_for_channel")
    return skips


def _counter(d: channels.Delivery, now: datetime) -> frequency.Counter:
    return frequency.Counter(d.snapshot["channel"], rules.Caps(**d.snapshot["caps"]), now,
                             d.snapshot["ctz"])


def _apply_caps(d: channels.Delivery, users: list[str], skips: dict[str, Row],
                now: datetime) -> tuple[list[str], dict[str, dict]]:
    """Who may be sent to under the caps (the rest join ``skips``), and their contact items."""
    if not users:
        return [], {}
    counter = _counter(d, now)
    items = frequency.read(d.tenant_id, users)
    marker = f"{d.run_id}:{d.batch}"
    deliver = []
    for u in users:
        refusal = counter.refusal(items[u], marker)
        if refusal:
            skips[u] = row(Status.SKIPPED, now, refusal)
        else:
            deliver.append(u)
    return deliver, items


def _write_contacts(d: channels.Delivery, users: list[str], known: dict[str, dict], adapter: Any,
                    personal: Personal, now: datetime) -> None:
    counter = _counter(d, now)
    missing = [u for u in users if u not in known]
    if missing:
        known.update(frequency.read(d.tenant_id, missing))
    marker = f"{d.run_id}:{d.batch}"
    writes = []
    for u in users:
        if adapter.IDEMPOTENT:
            writes.extend(adapter.requests(d, recipient(d, u, personal), now))
        contact = picking.remember(personal, u, known[u], now)
        writes.append(frequency.put_request(counter.counted(contact, marker)))
    frequency.batch_write(writes)


def _send(d: channels.Delivery, state: State, adapter: Any, users: list[str],
          personal: Personal, now: datetime, receive_count: int, msg: BatchMessage) -> None:
    results: dict[str, Row] = {}
    attempts = {u: int((state.rows.get(u) or Row(Status.CLAIMED)).attempts or 0) + 1
                for u in users}

    def report(user: str, ok: bool, reason: str | None, detail: str | None,
               retry: bool = False) -> None:
        at = clock.now()
        if not ok and retry and attempts[user] < ATTEMPTS:
            results[user] = row(Status.RETRY, at, reason, detail=detail, attempts=attempts[user],
                                next_at=int(at.timestamp()) + retry_delay(attempts[user]),
                                **personal.parts(user))
        else:
            results[user] = row(Status.SENT if ok else Status.FAILED, at, reason, detail=detail,
                                attempts=attempts[user], **personal.parts(user))

    error: Exception | None = None
    try:
        adapter.send(d, [recipient(d, u, personal) for u in users], report)
    except Exception as exc:  # noqa: BLE001 - recorded below, then re-raised for a retry
        error = exc
        log.warning("channel %s failed after %d of %d recipients: %s", d.snapshot["channel"],
                    len(results), len(users), exc)
    last_try = receive_count >= MAX_RECEIVES
    _unreported(results, users, now, error, last_try, personal)
    outcomes.record(d, state, results)
    if error is not None and not last_try:
        raise error
    _requeue(results, msg)


def _unreported(results: dict[str, Row], users: list[str], now: datetime,
                error: Exception | None, last_try: bool, personal: Personal) -> None:
    """Recipients the channel never reported (it crashed): retried, or failed on the last try."""
    for u in users:
        if u not in results:
            status, reason = ((Status.FAILED, "retries_exhausted") if last_try
                              else (Status.RETRY, "retrying"))
            results[u] = row(status, now, reason, detail=str(error)[:200],
                             **personal.parts(u))


def _requeue(results: dict[str, Row], msg: BatchMessage) -> None:
    """A real backoff: the batch comes back when its first retry is due."""
    later = [r.next_at for r in results.values() if r.status == Status.RETRY and r.next_at]
    if later:
        delay = max(0, min(min(later) - int(clock.now().timestamp()), MAX_DELAY))
        sends.send_messages([replace(msg, reload=True)], [delay])
