"""What fission does with domain events (declared in chalicelib/fission/domain.py):
counting invites from ``scan`` events, and pointing tasks at a poster template's new fingerprint
on ``template_changed``.

A scan through ``/s/{slug}?ref=<ref>`` counts as one invite for the ref's participant when, in one
DynamoDB transaction, all of these hold:
- the visitor is new to the live code (no visit cookie: ``new_visitor``) — checked before writing;
- no invite was counted for this visitor in this task (``Invite`` put with attribute_not_exists);
- the participant exists, the ref's nonce is theirs, and the visitor is not one of the
  participant's own devices (``own_visitors``, learnt from their progress page) nor the
  participant's own user (a scan carrying their mini-program token: the event's ``user_id``);
- the task exists, belongs to the scanned live code, and the scan's time is inside its window;
- anti-farming (docs/security.md): the scan came from a WeChat user agent (a cookie-less script
  with curl's or a browser's agent counts nothing), and neither the task's invites from the
  scanning IP today (``Settings.invites_per_ip_per_day``, IPs kept as keyed hashes) nor the participant's
  invites today (:data:`MAX_PER_PARTICIPANT_PER_DAY`) reached their ceiling — two counter items
  in the same transaction. A participant whose invites hit a ceiling is flagged ``suspicious``
  for the operator (listed by ``GET /v1/fission-tasks/{id}/participants?suspicious=true``).
The same transaction adds the invite to the participant and the task's counters, so counts cannot
drift. A ref-carrying scan costs the consumer at most 2 AWS calls (the transaction, then one
BatchGetItem for the goal check; or one counter update when nothing counts); the scan that reaches
the goal adds the grant and its notice (:mod:`chalicelib.fission.rewards`).
"""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable
from datetime import datetime, timezone

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.db import condition_failed
from chalicelib.fission import refs, rewards, store
from chalicelib.fission.models import FissionTask, Invite, Participant, task_pk
from chalicelib.settings import get_settings

log = logging.getLogger("yutang.fission")
ATTEMPTS = 8
MAX_PER_PARTICIPANT_PER_DAY = 100  # invites counted per participant per UTC day
_FUNNEL_REASONS = {"window": FissionTask.not_counted_window, "self": FissionTask.not_counted_self,
                   "agent": FissionTask.not_counted_agent, "ceiling": FissionTask.not_counted_ceiling}


def on_template_changed(payloads: list[dict]) -> None:
    """``template_changed`` (published by the poster templates): the template's tasks take its new
    fingerprint, so their participants' posters are rendered again from the new template."""
    from chalicelib.fission import tasks

    for payload in payloads:
        tasks.use_template_fingerprint(payload["tenant_id"], payload["template_id"],
                                       payload["fingerprint"])


def record_scans(events: Iterable[dict]) -> None:
    """A batch consumer (``batch=True`` in chalicelib/fission/domain.py): every scan of the SQS
    batch, then the ``invite_counted`` events of the batch in one SendMessageBatch. Counting is
    idempotent (the Invite item is written once per visitor), so a retried batch counts nothing
    twice."""
    from chalicelib import events as queue

    counted: list[dict] = []
    error: Exception | None = None
    for event in events:
        try:
            if record_scan(event).startswith("counted"):
                counted.append(invite_event(event))
        except Exception as exc:  # noqa: BLE001 - the others still count; raised below
            log.exception("counting a fission scan failed")
            error = exc
    queue.publish_many("invite_counted", counted)
    if error is not None:
        raise error


def invite_event(event: dict) -> dict:
    """The ``invite_counted`` payload of a counted scan (docs/events.md)."""
    ref = refs.parse_ref(event.get("ref"))
    if ref is None:  # only called for scans record_scan counted, which carry a valid ref
        raise ValueError("not a fission scan: no valid ref")
    return {"tenant_id": event["tenant_id"], "at": event.get("at"), "task_id": ref.task_id,
            "participant_id": ref.participant_id, "visitor_id": event.get("visitor_id"),
            "code_id": event.get("code_id"), "user_id": event.get("user_id")}


def record_scan(event: dict) -> str:
    """Count one scan event; returns what happened (for tests and logs)."""
    if event.get("bot"):
        return "bot"  # crawlers and link previews neither invite nor count in the funnel
    ref = refs.parse_ref(event.get("ref"))
    if ref is None or ref.tenant_id != event.get("tenant_id") or not event.get("code_id"):
        return "no-ref"
    at = datetime.fromisoformat(event["at"]).astimezone(timezone.utc)
    if not event.get("new_visitor"):
        _count_funnel(ref, event["code_id"], returning=True)
        return "returning"
    if not event.get("wechat"):
        _count_funnel(ref, event["code_id"], reason="agent")
        return "not-wechat"
    return _count_invite(ref, event["code_id"], str(event["visitor_id"]), at,
                         event.get("user_id") or None, event.get("ip") or None)


def _count_funnel(ref: refs.Parsed, code_id: str, returning: bool = False,
                  reason: str | None = None) -> None:
    actions: list[Action] = [FissionTask.ref_scans.add(1)]
    if not returning:
        actions.append(FissionTask.new_visitors.add(1))
    if reason in _FUNNEL_REASONS:
        actions.append(_FUNNEL_REASONS[reason].add(1))
    try:
        FissionTask(tenant_id=ref.tenant_id, task_id=ref.task_id).update(
            actions=actions,
            condition=FissionTask.task_id.exists() & (FissionTask.livecode_id == code_id))
    except UpdateError as exc:
        if not condition_failed(exc):
            raise  # no such task on this live code: a stale or foreign ref, nothing to count


def _count_invite(ref: refs.Parsed, code_id: str, visitor_id: str, at: datetime,
                  user_id: str | None = None, ip_hash: str | None = None) -> str:
    for attempt in range(ATTEMPTS):
        try:
            _invite_transaction(ref, code_id, visitor_id, at, user_id, ip_hash)
            break
        except TransactWriteError as exc:
            reasons = store.cancel_codes(exc)
            if not reasons:
                raise
            if "TransactionConflict" in reasons and attempt < ATTEMPTS - 1:
                time.sleep(random.uniform(0.005, 0.03) * (attempt + 1))
                continue
            outcome = _not_counted(ref, code_id, at, reasons)
            if outcome is None:
                raise
            return outcome
    else:
        raise RuntimeError("invite transaction kept conflicting")
    granted = rewards.check_reward(ref.tenant_id, ref.task_id, ref.participant_id)
    return "counted+rewarded" if granted else "counted"


def _invite_transaction(ref: refs.Parsed, code_id: str, visitor_id: str, at: datetime,
                        user_id: str | None, ip_hash: str | None) -> None:
    """The invite, the participant's and the task's counters and the daily ceilings: items 0, 1,
    2, 3 (participant ceiling) and 4 (IP ceiling) of one transaction."""
    pk = task_pk(ref.tenant_id, ref.task_id)
    ts = int(at.timestamp())
    not_self = ~Participant.own_visitors.contains(visitor_id)
    if user_id:  # a logged-in mini-program user: never an invite of their own participant
        not_self &= Participant.user_id.does_not_exist() | (Participant.user_id != user_id)
    day = at.date().isoformat()
    with FissionTask.transaction() as tx:
        tx.save(Invite(pk=pk, visitor_id=visitor_id, participant_id=ref.participant_id, at=at),
                condition=Invite.visitor_id.does_not_exist())
        tx.update(Participant(pk=pk, participant_id=ref.participant_id),
                  actions=[Participant.invites.add(1), Participant.last_invite_at.set(at)],
                  condition=Participant.participant_id.exists()
                  & (Participant.nonce == ref.token) & not_self)
        tx.update(FissionTask(tenant_id=ref.tenant_id, task_id=ref.task_id),
                  actions=[FissionTask.ref_scans.add(1), FissionTask.new_visitors.add(1),
                           FissionTask.invites.add(1)],
                  condition=FissionTask.task_id.exists() & (FissionTask.livecode_id == code_id)
                  & (FissionTask.window_start <= ts) & (FissionTask.window_end > ts))
        tx.update(Invite(pk=pk, visitor_id=Invite.participant_counter(day, ref.participant_id)),
                  actions=[Invite.n.add(1)],
                  condition=Invite.n.does_not_exist() | (Invite.n < MAX_PER_PARTICIPANT_PER_DAY))
        if ip_hash:
            tx.update(Invite(pk=pk, visitor_id=Invite.ip_counter(day, ip_hash)),
                      actions=[Invite.n.add(1)],
                      condition=Invite.n.does_not_exist()
                      | (Invite.n < get_settings().invites_per_ip_per_day))


def _not_counted(ref: refs.Parsed, code_id: str, at: datetime,
                 reasons: list[str | None]) -> str | None:
    """Why the invite transaction was cancelled, counted in the funnel; None: not a refusal."""
    failed = "ConditionalCheckFailed"
    if reasons[2] == failed:
        _count_funnel(ref, code_id, reason="window")
        return "outside-window-or-code"
    if reasons[1] == failed:
        _count_funnel(ref, code_id, reason="self")
        return "own-device-or-unknown"
    if reasons[0] == failed:
        # counted before: a redelivered event. Finish its reward check, count nothing.
        granted = rewards.check_reward(ref.tenant_id, ref.task_id, ref.participant_id)
        return "duplicate+rewarded" if granted else "duplicate"
    if failed in reasons[3:]:
        which = "participant_daily_ceiling" if reasons[3] == failed else "ip_daily_ceiling"
        _count_funnel(ref, code_id, reason="ceiling")
        _flag(ref, which, at)
        return which.replace("_", "-")
    return None


def _flag(ref: refs.Parsed, reason: str, at: datetime) -> None:
    """Mark the participant suspicious (the first reason stays) for the operator to review."""
    try:
        Participant(pk=task_pk(ref.tenant_id, ref.task_id), participant_id=ref.participant_id).update(
            actions=[Participant.suspicious.set(reason), Participant.suspicious_at.set(at)],
            condition=Participant.participant_id.exists() & Participant.suspicious.does_not_exist()
            & (Participant.nonce == ref.token))
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
