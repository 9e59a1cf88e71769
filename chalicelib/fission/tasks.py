"""Fission tasks: create, read, change and delete a task, its reward code pool, its stats, and
the tasks of a poster template (pointed at the template's new fingerprint when it changes)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib import clock, pagination
from chalicelib import validate as v
from chalicelib.db import condition_failed
from chalicelib.error_codes import (
    CONCURRENT_CHANGE,
    DUPLICATE_CODES,
    INVALID_CURSOR,
    TASK_NOT_FOUND,
    TASK_STARTED,
)
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.fission import store
from chalicelib.fission.models import FAR_FUTURE, FissionTask, Invite, Participant, RewardCode, task_pk
from chalicelib.ids import is_id, new_id
from chalicelib.settings import get_settings

TASK_ID_LEN = 8
MAX_GOAL = 10_000
MAX_CODES_PER_REQUEST = 1000
CODES_PER_TRANSACTION = 99  # DynamoDB allows 100 items; one is the task's counter
TASK_FIELDS = ("name", "livecode_id", "template_id", "goal", "reward", "starts_at", "ends_at")
NOTICE_CHANNELS = ("outbox", "webhook", "wecom")
FROZEN_ONCE_STARTED = ("goal", "starts_at", "livecode_id")


def _epoch(value: datetime | None, default: int) -> int:
    return int(value.timestamp()) if value is not None else default


def load_task(tenant_id: str, task_id: str) -> FissionTask:
    missing = NotFound("no such fission task", code=TASK_NOT_FOUND)
    if not is_id(task_id, TASK_ID_LEN):
        raise missing
    return FissionTask.get_or_raise(tenant_id, task_id, missing)


def status(task: FissionTask, now: datetime | None = None) -> str:
    now = now or clock.now()
    if now < task.starts_at:
        return "scheduled"
    return "ended" if task.ends_at is not None and now >= task.ends_at else "active"


def scan_url(tenant_id: str, livecode_id: str) -> str:
    from chalicelib.livecodes.service import slug_for

    return f"{get_settings().public_url}/s/{slug_for(tenant_id, livecode_id)}"


def task_view(t: FissionTask) -> dict:
    total, issued = int(t.codes_total), int(t.codes_issued)
    return {
        "id": t.task_id, "name": t.name, "livecode_id": t.livecode_id, "template_id": t.template_id,
        "goal": int(t.goal), "reward": {"message": t.reward_message, "codes_total": total,
                                        "codes_issued": issued, "codes_left": total - issued,
                                        "notice_channel": t.notice_channel or "outbox",
                                        "coupon_pool_id": t.coupon_pool_id},
        "starts_at": t.starts_at.isoformat(), "ends_at": t.ends_at.isoformat() if t.ends_at else None,
        "status": status(t), "scan_url": scan_url(t.tenant_id, t.livecode_id),
        "participants": int(t.participants), "invites": int(t.invites), "rewards": int(t.rewards),
        "created_at": t.created_at.isoformat(), "updated_at": t.updated_at.isoformat(),
    }


def _reference(loader: Any, tenant_id: str, value: str, field: str) -> Any:
    try:
        return loader(tenant_id, value)
    except NotFound as exc:
        raise ValidationFailed(f"'{field}' names no {exc.message[8:]} of this tenant", code=exc.code,
                               field=field) from None


def _livecode(tenant_id: str, body: dict, max_len: int = 20) -> Any:
    from chalicelib.livecodes import service as livecodes

    return _reference(livecodes.load, tenant_id,
                      v.text(body, "livecode_id", required=True, max_len=max_len), "livecode_id")


def _template(tenant_id: str, body: dict, max_len: int = 20) -> Any:
    from chalicelib.posters import service as posters

    return _reference(posters.load, tenant_id,
                      v.text(body, "template_id", required=True, max_len=max_len), "template_id")


def _parse_reward(body: dict) -> tuple[str | None, list[str], str | None]:
    reward = v.object_(body, "reward") or {}
    v.only_keys(reward, ("message", "codes", "notice_channel", "coupon_pool_id"), "reward")
    message = v.text(reward, "message", max_len=500)
    return message, parse_codes(reward, "reward.codes"), _notice_channel(reward)


def _coupon_pool(tenant_id: str, body: dict, codes: list[str]) -> str | None:
    """A coupon pool the reward's code comes from (the tenant's own; not with ``codes``)."""
    field = "reward.coupon_pool_id"
    pool_id = v.text(v.object_(body, "reward") or {}, "coupon_pool_id", max_len=64)
    if pool_id is None:
        return None
    if codes:
        raise ValidationFailed("a reward has 'codes' or 'coupon_pool_id', not both", field=field)
    from chalicelib.coupons import service as coupons

    coupons.check_pool(tenant_id, pool_id, field)
    return pool_id


def _notice_channel(reward: dict) -> str | None:
    """None stands for the default, outbox."""
    channel = v.choice(reward, "notice_channel", NOTICE_CHANNELS)
    return None if channel == "outbox" else channel


def parse_codes(data: dict, field: str) -> list[str]:
    raw = data.get("codes")
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_CODES_PER_REQUEST:
        raise ValidationFailed(f"'{field}' must be an array of at most {MAX_CODES_PER_REQUEST} codes "
                               "(add more with POST .../reward-codes)", field=field)
    codes = []
    for i, value in enumerate(raw):
        if (not isinstance(value, str) or not 1 <= len(value.strip()) <= 128
                or any(ord(c) < 32 for c in value)):
            raise ValidationFailed(f"'{field}[{i}]' must be a code of 1-128 printable characters",
                                   field=field)
        codes.append(value.strip())
    if len(set(codes)) != len(codes):
        raise ValidationFailed(f"'{field}' has duplicate codes", code=DUPLICATE_CODES, field=field)
    return codes


def create_task(tenant_id: str, body: dict, now: datetime | None = None) -> dict:
    now = now or clock.now()
    v.only_keys(body, TASK_FIELDS)
    name = v.text(body, "name", required=True, max_len=100)
    code = _livecode(tenant_id, body)
    template = _template(tenant_id, body)
    goal = v.integer(body, "goal", required=True, lo=1, hi=MAX_GOAL)
    message, codes, notice_channel = _parse_reward(body)
    coupon_pool_id = _coupon_pool(tenant_id, body, codes)
    starts_at = v.timestamp(body, "starts_at") or now
    ends_at = v.timestamp(body, "ends_at")
    _check_window(starts_at, ends_at, now)
    task = FissionTask(tenant_id=tenant_id, task_id=new_id(TASK_ID_LEN), name=name,
                       livecode_id=code.code_id, template_id=template.template_id,
                       template_fp=template.fingerprint, goal=goal, reward_message=message,
                       notice_channel=notice_channel, coupon_pool_id=coupon_pool_id,
                       starts_at=starts_at, ends_at=ends_at, window_start=_epoch(starts_at, 0),
                       window_end=_epoch(ends_at, FAR_FUTURE), created_at=now, updated_at=now)
    task.save(condition=FissionTask.task_id.does_not_exist())
    if codes:
        add_codes(tenant_id, task.task_id, {"codes": codes}, now)
    return task_view(load_task(tenant_id, task.task_id))


def _check_window(starts_at: datetime, ends_at: datetime | None, now: datetime) -> None:
    if ends_at is not None and ends_at <= starts_at:
        raise ValidationFailed("'ends_at' must be after 'starts_at'", field="ends_at")
    if ends_at is not None and ends_at <= now:
        raise ValidationFailed("'ends_at' is in the past", field="ends_at")


def get_task(tenant_id: str, task_id: str) -> dict:
    return task_view(load_task(tenant_id, task_id))


def list_tasks(tenant_id: str, limit: int, cursor: str | None) -> dict:
    return pagination.by_tenant(FissionTask, tenant_id, limit, cursor, task_view, TASK_ID_LEN)


def update_task(tenant_id: str, task_id: str, body: dict, now: datetime | None = None) -> dict:
    now = now or clock.now()
    v.only_keys(body, ("name", "template_id", "goal", "reward", "starts_at", "ends_at", "livecode_id"))
    task = load_task(tenant_id, task_id)
    frozen = [k for k in FROZEN_ONCE_STARTED if k in body]
    if frozen and status(task, now) != "scheduled":
        raise Conflict(f"'{frozen[0]}' cannot change once the task has started (invites are counted "
                       "against it)", code=TASK_STARTED, field=frozen[0])
    actions = [FissionTask.updated_at.set(now), *_field_actions(tenant_id, body),
               *_reward_actions(body), *_window_actions(task, body, now)]
    condition = FissionTask.task_id.exists()
    if frozen:  # guards against the start passing between the read and this write
        condition &= FissionTask.window_start > int(now.timestamp())
    try:
        task.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        raise Conflict("the task started or was deleted meanwhile", code=TASK_STARTED) from None
    return task_view(load_task(tenant_id, task_id))


def _field_actions(tenant_id: str, body: dict) -> list:
    actions = []
    if "name" in body:
        actions.append(FissionTask.name.set(v.text(body, "name", required=True, max_len=100)))
    if "template_id" in body:
        t = _template(tenant_id, body, max_len=200)
        actions += [FissionTask.template_id.set(t.template_id), FissionTask.template_fp.set(t.fingerprint)]
    if "livecode_id" in body:
        actions.append(FissionTask.livecode_id.set(_livecode(tenant_id, body, max_len=200).code_id))
    if "goal" in body:
        actions.append(FissionTask.goal.set(v.integer(body, "goal", required=True, lo=1, hi=MAX_GOAL)))
    return actions


def _reward_actions(body: dict) -> list:
    if "reward" not in body:
        return []
    reward = v.object_(body, "reward", required=True)
    v.only_keys(reward, ("message", "notice_channel"),
                "reward (codes are added with POST .../reward-codes)")
    actions = []
    if "message" in reward:
        message = v.text(reward, "message", max_len=500)
        actions.append(FissionTask.reward_message.set(message) if message
                       else FissionTask.reward_message.remove())
    if "notice_channel" in reward:
        channel = _notice_channel(reward)
        actions.append(FissionTask.notice_channel.set(channel) if channel
                       else FissionTask.notice_channel.remove())
    return actions


def _window_actions(task: FissionTask, body: dict, now: datetime) -> list:
    if "starts_at" not in body and "ends_at" not in body:
        return []
    starts_at = v.timestamp(body, "starts_at", required=True) if "starts_at" in body \
        else task.starts_at
    ends_at = v.timestamp(body, "ends_at") if "ends_at" in body else task.ends_at
    _check_window(starts_at, ends_at, now)
    return [FissionTask.starts_at.set(starts_at), FissionTask.window_start.set(_epoch(starts_at, 0)),
            FissionTask.window_end.set(_epoch(ends_at, FAR_FUTURE)),
            FissionTask.ends_at.set(ends_at) if ends_at else FissionTask.ends_at.remove()]


def delete_task(tenant_id: str, task_id: str) -> None:
    """Delete the task first (its invites stop counting at once), then its participants, invites
    and codes."""
    task = load_task(tenant_id, task_id)
    task.delete()
    pk = task_pk(tenant_id, task_id)
    for model in (Participant, Invite, RewardCode):
        with model.batch_write() as batch:
            for item in model.query(pk):
                batch.delete(item)


def use_template_fingerprint(tenant_id: str, template_id: str, fingerprint: str) -> int:
    """Point the template's tasks at its new fingerprint (their posters' cache names change);
    how many tasks were pointed."""
    moved = 0
    for task in FissionTask.query(tenant_id, filter_condition=FissionTask.template_id == template_id):
        try:
            task.update(actions=[FissionTask.template_fp.set(fingerprint)],
                        condition=FissionTask.task_id.exists())
            moved += 1
        except UpdateError as exc:
            if not condition_failed(exc):
                raise  # else deleted meanwhile: nothing to point
    return moved


def tasks_using_template(tenant_id: str, template_id: str) -> list[str]:
    return [t.task_id for t in FissionTask.query(
        tenant_id, filter_condition=FissionTask.template_id == template_id)]


# ---- reward code pool ----------------------------------------------------------------------------

def add_codes(tenant_id: str, task_id: str, body: dict, now: datetime | None = None) -> dict:
    """Append codes n = total, total + 1, ... Each chunk is one transaction that also moves
    ``codes_total`` from the value it read, so concurrent appends never overwrite each other."""
    v.only_keys(body, ("codes",))
    codes = parse_codes(body, "codes")
    if not codes:
        raise ValidationFailed("'codes' must name at least one code", field="codes")
    for i in range(0, len(codes), CODES_PER_TRANSACTION):
        _append_chunk(tenant_id, task_id, codes[i:i + CODES_PER_TRANSACTION])
    task = load_task(tenant_id, task_id)
    return {"added": len(codes), "codes_total": int(task.codes_total),
            "codes_issued": int(task.codes_issued)}


def _append_chunk(tenant_id: str, task_id: str, chunk: list[str]) -> None:
    pk = task_pk(tenant_id, task_id)
    for _ in range(5):
        task = load_task(tenant_id, task_id)
        total = int(task.codes_total)
        try:
            with FissionTask.transaction() as tx:
                tx.update(task, actions=[FissionTask.codes_total.set(total + len(chunk))],
                          condition=FissionTask.codes_total == total)
                for n, code in enumerate(chunk, start=total):
                    tx.save(RewardCode(pk=pk, n=n, code=code), condition=RewardCode.n.does_not_exist())
            return
        except TransactWriteError as exc:
            if not store.cancel_codes(exc):
                raise
    raise Conflict("the code pool kept changing; retry", code=CONCURRENT_CHANGE)


def list_codes(tenant_id: str, task_id: str, limit: int, cursor: str | None) -> dict:
    load_task(tenant_id, task_id)
    pk = task_pk(tenant_id, task_id)
    start = None
    if cursor:
        if not cursor.isdigit():
            raise ValidationFailed("invalid cursor", code=INVALID_CURSOR, field="cursor")
        start = RewardCode.raw_key(pk, cursor)
    result = RewardCode.query(pk, limit=limit, last_evaluated_key=start)
    items = [{"n": int(c.n), "code": c.code, "participant_id": c.participant_id,
              "claimed_at": c.claimed_at.isoformat() if c.claimed_at else None} for c in result]
    last = result.last_evaluated_key
    return {"items": items, "next_cursor": last["n"]["N"] if last else None}


# ---- stats ----------------------------------------------------------------------------------------

def stats(tenant_id: str, task_id: str) -> dict:
    t = load_task(tenant_id, task_id)
    scans, new, invites = int(t.ref_scans), int(t.new_visitors), int(t.invites)
    total, issued = int(t.codes_total), int(t.codes_issued)
    return {"participants": int(t.participants), "scans": scans, "new_visitors": new,
            "invites": invites, "rewards": int(t.rewards),
            "not_counted": {"returning_visitor": scans - new, "outside_window": int(t.not_counted_window),
                            "own_device_or_unknown_ref": int(t.not_counted_self),
                            "not_wechat": int(t.not_counted_agent or 0),
                            "daily_ceiling": int(t.not_counted_ceiling or 0)},
            "codes": {"total": total, "issued": issued, "left": total - issued},
            "funnel": [{"step": "scan", "count": scans}, {"step": "new_visitor", "count": new},
                       {"step": "invite_counted", "count": invites},
                       {"step": "reward_granted", "count": int(t.rewards)}]}
