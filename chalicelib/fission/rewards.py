"""Rewards: granting a participant's reward exactly once when they reach the goal, and the
operator's list of rewards granted.

Granting is a transaction conditioned on the participant having no reward yet, with the next pool
code claimed by moving the task's ``codes_issued`` from n to n + 1 and marking code n, so a reward
is granted once and a code goes to one participant, however many consumers race. The reward
message's ``{nickname}`` and ``{code}`` are filled in by the grant; the notice is then delivered
through the task's channel (``notices``), and any later event of a rewarded participant finishes a
notice left pending.
"""
from __future__ import annotations

import logging
import random
import time
from datetime import datetime

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action

from chalicelib import clock
from chalicelib.error_codes import INVALID_CURSOR
from chalicelib.errors import ValidationFailed
from chalicelib.fission import notices, refs, store
from chalicelib.fission.models import FissionTask, Participant, RewardCode, task_pk
from chalicelib.fission.tasks import load_task
from chalicelib.ids import is_id

log = logging.getLogger("yutang.fission")
ATTEMPTS = 16
CODES_EXHAUSTED = "codes-exhausted"


def check_reward(tenant_id: str, task_id: str, participant_id: str) -> bool:
    """Grant the participant's reward if they reached the goal and have none, then deliver its
    notice (or finish one an earlier grant left pending); True if this call granted it."""
    task, p = store.task_and_participant(tenant_id, task_id, participant_id)
    for attempt in range(ATTEMPTS):
        if task is None or p is None:
            return False
        if p.rewarded_at is not None:
            notices.deliver(task, p)  # nothing to do (no call) once the notice is final
            return False
        if int(p.invites) < int(task.goal):
            return False
        try:
            _grant(task, p, clock.now())
        except TransactWriteError as exc:
            if not store.cancel_codes(exc):
                raise
            time.sleep(random.uniform(0.002, 0.02) * min(attempt + 1, 5))
        else:
            _publish_grant(task, p)
            notices.deliver(task, p)
            return True
        task, p = store.task_and_participant(tenant_id, task_id, participant_id)
    raise RuntimeError(f"could not grant the reward of participant {participant_id}; retrying")


def _publish_grant(task: FissionTask, p: Participant) -> None:
    from chalicelib import events

    events.publish("reward_granted", {
        "tenant_id": task.tenant_id, "at": p.rewarded_at.isoformat() if p.rewarded_at else None,
        "task_id": task.task_id, "participant_id": p.participant_id,
        "user_id": getattr(p, "user_id", None), "reward_code": p.reward_code})


def _grant(task: FissionTask, p: Participant, now: datetime) -> None:
    pk = task_pk(task.tenant_id, task.task_id)
    issued, total = int(task.codes_issued), int(task.codes_total)
    coupon = _coupon(task, p) if task.coupon_pool_id else None
    code = (RewardCode.get(pk, issued, consistent_read=True)
            if issued < total and not task.coupon_pool_id else None)
    task_actions: list[Action] = [FissionTask.rewards.add(1)]
    task_cond = FissionTask.task_id.exists() & (FissionTask.codes_issued == issued)
    channel = task.notice_channel or notices.DEFAULT_CHANNEL
    given = code.code if code is not None else coupon
    message = notices.render(task.reward_message, p.nickname, given)
    p_actions: list[Action] = [
        Participant.rewarded_at.set(now), Participant.rewarded_ts.set(int(now.timestamp())),
        Participant.notice.set("pending"), Participant.notice_channel.set(channel)]
    if message:
        p_actions.append(Participant.reward_message.set(message))
    if code is not None:
        task_actions.append(FissionTask.codes_issued.set(issued + 1))
    else:
        task_cond &= FissionTask.codes_total == total  # no code: only if none was added meanwhile
    if given is not None:
        p_actions.append(Participant.reward_code.set(given))
    elif total or task.coupon_pool_id:
        p_actions.append(Participant.reward_note.set(CODES_EXHAUSTED))
    with FissionTask.transaction() as tx:
        tx.update(task, actions=task_actions, condition=task_cond)
        if code is not None:
            tx.update(code, actions=[RewardCode.participant_id.set(p.participant_id),
                                     RewardCode.claimed_at.set(now)],
                      condition=RewardCode.participant_id.does_not_exist())
        tx.update(p, actions=p_actions, condition=Participant.rewarded_at.does_not_exist()
                  & (Participant.invites >= int(task.goal)))
    p.rewarded_at, p.rewarded_ts, p.notice, p.notice_channel = now, int(now.timestamp()), \
        "pending", channel
    p.reward_message = message or None
    p.reward_code = given
    log.info("fission reward granted: task %s participant %s code #%s", task.task_id,
             p.participant_id, issued if code is not None else "-")


def _coupon(task: FissionTask, p: Participant) -> str | None:
    """The participant's code from the task's coupon pool: granted once per participant per task
    (a retried grant gets the same code), None when the pool is empty."""
    from chalicelib.coupons import service as coupons
    from chalicelib.errors import Conflict, NotFound

    try:
        return coupons.grant(task.tenant_id, task.coupon_pool_id or "", f"fission:{task.task_id}",
                             p.participant_id).code
    except (Conflict, NotFound):
        return None


def rewards(tenant_id: str, task_id: str, limit: int, cursor: str | None) -> dict:
    """Rewards granted, newest first, each with its notice: status (pending, sending, sent,
    skipped, failed), channel, reason, the user it was addressed to and when."""
    task = load_task(tenant_id, task_id)
    pk = task_pk(tenant_id, task_id)
    start = None
    if cursor:
        ts, _, pid = cursor.partition(".")
        if not ts.isdigit() or not is_id(pid, refs.PARTICIPANT_LEN):
            raise ValidationFailed("invalid cursor", code=INVALID_CURSOR, field="cursor")
        start = Participant.rewards_page_key(pk, pid, ts)
    result = Participant.rewards_index.query(pk, scan_index_forward=False, limit=limit,
                                             last_evaluated_key=start)
    items = [_reward_view(p) for p in result]
    last = result.last_evaluated_key
    cursor_out = f"{last['rewarded_ts']['N']}.{last['participant_id']['S']}" if last else None
    return {"items": items, "next_cursor": cursor_out, "goal": int(task.goal)}


def _reward_view(p: Participant) -> dict:
    return {"participant_id": p.participant_id, "nickname": p.nickname, "user_id": p.user_id,
            "openid": p.openid, "invites": int(p.invites), "message": p.reward_message,
            "code": p.reward_code, "note": p.reward_note, "notice": p.notice or "pending",
            "notice_channel": p.notice_channel or "outbox", "notice_reason": p.notice_reason,
            "notice_detail": p.notice_detail, "notice_user_id": p.notice_user,
            "notice_at": p.notice_at.isoformat() if p.notice_at else None,
            "rewarded_at": p.rewarded_at.isoformat()}
