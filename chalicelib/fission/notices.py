"""Reward notices: the message a participant gets once their reward is granted, delivered at most
once through a campaign channel adapter (``chalicelib.channels``): outbox (default),
webhook or wecom, as chosen by the task's ``reward.notice_channel`` when the reward was granted.

The notice's state lives on the participant and moves only by conditional updates:
``pending`` (set by the grant's transaction) → ``sending`` (claimed, with a lease) → ``sent`` |
``skipped`` | ``failed`` (with ``notice_reason``). The events consumer delivers it right after the
grant; a replayed or later scan event of a rewarded participant finds it final and does nothing.
A claim whose consumer died (lease over) is redone for the outbox (its item is keyed by task,
participant and user, so a rewrite is harmless) and recorded ``failed: outcome_unknown`` for
webhook and wecom rather than risk a second message. A channel that raises (a retryable 企业微信
errcode, a storage error) puts the notice back to ``pending`` and re-raises: the consumer retries.

Notices are transactional, not marketing: they do not count against campaign frequency caps, but
an unsubscribed user is skipped (``unsubscribed``).
"""
from __future__ import annotations

import logging
import re
import time
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib import clock
from chalicelib.db import condition_failed
from chalicelib.fission.models import FissionTask, Participant
from chalicelib.settings import get_settings

log = logging.getLogger("yutang.fission")
DEFAULT_CHANNEL = "outbox"
SOURCE = "fission_reward"
WAIT_FOR_OTHER_SENDER = (0.05, 0.1, 0.2, 0.4, 0.8)  # seconds, then retry the event later
_PLACEHOLDER = re.compile(r"\{(nickname|code)\}")


class NoticeBusy(Exception):
    """Another consumer holds a live claim on this notice; the event is retried later."""


def render(template: str | None, nickname: str, code: str | None) -> str | None:
    """The reward message with ``{nickname}`` and ``{code}`` filled in (one pass, so a nickname
    that looks like a placeholder stays as it is)."""
    if not template:
        return template
    values = {"nickname": nickname, "code": code or ""}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def text(task: FissionTask, p: Participant) -> str:
    """The notice: the participant's reward message (else a default), with the code appended
    unless the message already shows it."""
    message = p.reward_message or f"恭喜{p.nickname}，你已完成「{task.name}」任务！"
    if p.reward_code and p.reward_code not in message:
        message += f"\n兑换码：{p.reward_code}"
    return message


# ---- delivery ------------------------------------------------------------------------------------

def deliver(task: FissionTask, p: Participant) -> str | None:
    """Deliver the participant's notice if it is due; the status it ends in (None: nothing to do
    here, or another consumer moved it first)."""
    for delay in (*WAIT_FOR_OTHER_SENDER, None):
        if p.notice not in ("pending", "sending"):
            return None
        if p.notice == "pending" or int(p.notice_lease or 0) <= clock.now().timestamp():
            return _deliver(task, p)
        if delay is None:
            raise NoticeBusy(f"the notice of participant {p.participant_id} is being sent")
        time.sleep(delay)  # another consumer is sending it right now: usually done in a moment
        p = Participant.get(p.pk, p.participant_id, consistent_read=True)
    return None


def _deliver(task: FissionTask, p: Participant) -> str | None:
    from chalicelib import channels

    channel = p.notice_channel or DEFAULT_CHANNEL
    stale = p.notice == "sending"
    if stale and not channels.get(channel).IDEMPOTENT:
        log.warning("reward notice of %s: its sender vanished; not resending", p.participant_id)
        done = _finish(p, p.notice_lease, "failed", "outcome_unknown", p.notice_user, None)
        return "failed" if done else None
    lease = int(clock.now().timestamp()) + get_settings().send_lease_seconds
    if not _claim(p, lease):
        return None
    try:
        status, reason, user, detail = _send(task, p, channel)
    except Exception:
        _release(p, lease)
        raise
    _finish(p, lease, status, reason, user, detail)
    return status


def _claim(p: Participant, lease: int) -> bool:
    condition = Participant.notice == p.notice
    if p.notice == "sending":
        condition &= Participant.notice_lease == int(p.notice_lease or 0)
    return _update(p, [Participant.notice.set("sending"), Participant.notice_lease.set(lease)],
                   condition)


def _release(p: Participant, lease: int) -> None:
    _update(p, [Participant.notice.set("pending"), Participant.notice_reason.set("retrying"),
                Participant.notice_lease.remove()],
            (Participant.notice == "sending") & (Participant.notice_lease == lease))


def _finish(p: Participant, lease: Any, status: str, reason: str | None, user: str | None,
            detail: str | None) -> bool:
    actions = [Participant.notice.set(status), Participant.notice_at.set(clock.now()),
               Participant.notice_lease.remove(),
               Participant.notice_reason.set(reason) if reason else Participant.notice_reason.remove(),
               Participant.notice_detail.set(detail[:200]) if detail
               else Participant.notice_detail.remove()]
    if user:
        actions.append(Participant.notice_user.set(user))
    return _update(p, actions, (Participant.notice == "sending")
                   & (Participant.notice_lease == int(lease or 0)))


def _update(p: Participant, actions: list, condition: Any) -> bool:
    try:
        p.update(actions=actions, condition=condition)
        return True
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        return False


# ---- channels ------------------------------------------------------------------------------------

def _user(p: Participant) -> dict | None:
    """The audience user the notice addresses: the participant's user_id (a unified user id, else
    a brand_user_id identity), else their openid identity."""
    from chalicelib.audience import users as audience

    if p.user_id:
        found = audience.get_users(p.tenant_id, [p.user_id]).get(p.user_id)
        if found is None:
            found = audience.find_user(p.tenant_id, "brand_user_id", p.user_id)
        if found is not None:
            return found
    return audience.find_user(p.tenant_id, "openid", p.openid) if p.openid else None


def _send(task: FissionTask, p: Participant,
          channel: str) -> tuple[str, str | None, str | None, str | None]:
    """(status, reason, addressed user, detail) of one delivery attempt."""
    from chalicelib import channels
    from chalicelib.campaigns import unsubscribes as contacts

    user = _user(p)
    user_id = user["id"] if user else None
    identities = (user or {}).get("identities") or {}
    if user_id and contacts.unsubscribed(p.tenant_id, [user_id]):
        return "skipped", "unsubscribed", user_id, None
    adapter = channels.get(channel)
    delivery = channels.Delivery(p.tenant_id, p.task_id, p.participant_id, "reward",
                                 {"name": task.name, "channel": channel})
    if channel == "outbox":
        target = user_id or p.user_id
        if not target:
            return "skipped", "no_user", None, None
        adapter.put(delivery, channels.Recipient(target, identities, text(task, p), None), clock.now(),
                    source=SOURCE)
        return "sent", None, target, None
    if channel == "wecom":
        if not user_id:
            return "skipped", "no_user", None, None
        if not identities.get(adapter.IDENTITY):
            return "skipped", "no_identity_for_channel", user_id, None
        outcomes: list[tuple] = []
        adapter.send(delivery, [channels.Recipient(user_id, identities, text(task, p), None)],
                     lambda *outcome: outcomes.append(outcome))
        _, ok, reason, detail = outcomes[0]
        return ("sent" if ok else "failed"), reason, user_id, detail
    ok, reason = adapter.send_event(p.tenant_id, "fission.reward", _event(task, p, user),
                                    f"fission:{p.task_id}:{p.participant_id}")
    return ("sent" if ok else "failed"), reason, user_id, None


def _event(task: FissionTask, p: Participant, user: dict | None) -> dict:
    return {"task_id": task.task_id, "task_name": task.name, "participant_id": p.participant_id,
            "delivery_id": f"fission:{p.task_id}:{p.participant_id}",
            "user": {"id": user["id"], "identities": user.get("identities") or {}} if user else None,
            "participant": {"nickname": p.nickname, "user_id": p.user_id, "openid": p.openid},
            "reward": {"message": p.reward_message, "code": p.reward_code,
                       "rewarded_at": p.rewarded_at.isoformat() if p.rewarded_at else None},
            "message": {"text": text(task, p)}}
