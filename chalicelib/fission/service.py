"""Fission task use cases: tasks, reward code pools, participants, their posters and progress,
the leaderboard, reward notices and stats. Invite counting lives in ``invites`` (the consumer)."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from chalicelib import images, media, pagination
from chalicelib import validate as v
from chalicelib.db import condition_failed
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.fission import refs, store
from chalicelib.fission.models import (
    FAR_FUTURE,
    FissionTask,
    Invite,
    Participant,
    RewardCode,
    task_pk,
)
from chalicelib.ids import ALPHABET, is_id, new_id
from chalicelib.secret_store import app_secret
from chalicelib.settings import get_settings

TASK_ID_LEN = 8
MAX_GOAL = 10_000
MAX_CODES_PER_REQUEST = 1000
CODES_PER_TRANSACTION = 99  # DynamoDB allows 100 items; one is the task's counter
MAX_OWN_VISITORS = 20
TASK_FIELDS = ("name", "livecode_id", "template_id", "goal", "reward", "starts_at", "ends_at")
PARTICIPANT_FIELDS = ("user_id", "openid", "nickname", "avatar")
NOTICE_CHANNELS = ("outbox", "webhook", "wecom")
RANK_DEPTH = 100  # "rank" of the mini-program's own view: exact within the top 100, else null


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _epoch(value: datetime | None, default: int) -> int:
    return int(value.timestamp()) if value is not None else default


# ---- tasks --------------------------------------------------------------------------------------

def load_task(tenant_id: str, task_id: str) -> FissionTask:
    if not is_id(task_id, TASK_ID_LEN):
        raise NotFound("no such fission task", code="task-not-found")
    try:
        return FissionTask.get(tenant_id, task_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("no such fission task", code="task-not-found") from None


def status(task: FissionTask, now: datetime | None = None) -> str:
    now = now or utcnow()
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
                                        "notice_channel": t.notice_channel or "outbox"},
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


def _parse_reward(body: dict) -> tuple[str | None, list[str], str | None]:
    reward = v.object_(body, "reward") or {}
    v.only_keys(reward, ("message", "codes", "notice_channel"), "reward")
    message = v.text(reward, "message", max_len=500)
    return message, parse_codes(reward, "reward.codes"), _notice_channel(reward)


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
        raise ValidationFailed(f"'{field}' has duplicate codes", code="duplicate-codes", field=field)
    return codes


def create_task(tenant_id: str, body: dict, now: datetime | None = None) -> dict:
    from chalicelib.livecodes import service as livecodes
    from chalicelib.posters import service as posters

    now = now or utcnow()
    v.only_keys(body, TASK_FIELDS)
    name = v.text(body, "name", required=True, max_len=100)
    code = _reference(livecodes.load, tenant_id, v.text(body, "livecode_id", required=True, max_len=20),
                      "livecode_id")
    template = _reference(posters.load, tenant_id,
                          v.text(body, "template_id", required=True, max_len=20), "template_id")
    goal = v.integer(body, "goal", required=True, lo=1, hi=MAX_GOAL)
    message, codes, notice_channel = _parse_reward(body)
    starts_at = v.timestamp(body, "starts_at") or now
    ends_at = v.timestamp(body, "ends_at")
    _check_window(starts_at, ends_at, now)
    task = FissionTask(tenant_id=tenant_id, task_id=new_id(TASK_ID_LEN), name=name,
                       livecode_id=code.code_id, template_id=template.template_id,
                       template_fp=template.fingerprint, goal=goal, reward_message=message,
                       notice_channel=notice_channel,
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
    from chalicelib.livecodes import service as livecodes
    from chalicelib.posters import service as posters

    now = now or utcnow()
    v.only_keys(body, ("name", "template_id", "goal", "reward", "starts_at", "ends_at", "livecode_id"))
    task = load_task(tenant_id, task_id)
    started = status(task, now) != "scheduled"
    frozen = [k for k in ("goal", "starts_at", "livecode_id") if k in body]
    if started and frozen:
        raise Conflict(f"'{frozen[0]}' cannot change once the task has started (invites are counted "
                       "against it)", code="task-started", field=frozen[0])
    actions = [FissionTask.updated_at.set(now)]
    if "name" in body:
        actions.append(FissionTask.name.set(v.text(body, "name", required=True, max_len=100)))
    if "template_id" in body:
        t = _reference(posters.load, tenant_id, v.text(body, "template_id", required=True),
                       "template_id")
        actions += [FissionTask.template_id.set(t.template_id), FissionTask.template_fp.set(t.fingerprint)]
    if "livecode_id" in body:
        code = _reference(livecodes.load, tenant_id, v.text(body, "livecode_id", required=True),
                          "livecode_id")
        actions.append(FissionTask.livecode_id.set(code.code_id))
    if "goal" in body:
        actions.append(FissionTask.goal.set(v.integer(body, "goal", required=True, lo=1, hi=MAX_GOAL)))
    if "reward" in body:
        reward = v.object_(body, "reward", required=True)
        v.only_keys(reward, ("message", "notice_channel"),
                    "reward (codes are added with POST .../reward-codes)")
        if "message" in reward:
            message = v.text(reward, "message", max_len=500)
            actions.append(FissionTask.reward_message.set(message) if message
                           else FissionTask.reward_message.remove())
        if "notice_channel" in reward:
            channel = _notice_channel(reward)
            actions.append(FissionTask.notice_channel.set(channel) if channel
                           else FissionTask.notice_channel.remove())
    if "starts_at" in body or "ends_at" in body:
        starts_at = v.timestamp(body, "starts_at", required=True) if "starts_at" in body \
            else task.starts_at
        ends_at = v.timestamp(body, "ends_at") if "ends_at" in body else task.ends_at
        _check_window(starts_at, ends_at, now)
        actions += [FissionTask.starts_at.set(starts_at), FissionTask.window_start.set(_epoch(starts_at, 0)),
                    FissionTask.window_end.set(_epoch(ends_at, FAR_FUTURE)),
                    FissionTask.ends_at.set(ends_at) if ends_at else FissionTask.ends_at.remove()]
    condition = FissionTask.task_id.exists()
    if frozen:  # guards against the start passing between the read and this write
        condition &= FissionTask.window_start > int(now.timestamp())
    try:
        task.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        raise Conflict("the task started or was deleted meanwhile", code="task-started") from None
    return task_view(load_task(tenant_id, task_id))


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


def template_changed(tenant_id: str, template_id: str, fingerprint: str) -> None:
    """Point the template's tasks at its new fingerprint (their posters' cache names change)."""
    for task in FissionTask.query(tenant_id, filter_condition=FissionTask.template_id == template_id):
        task.update(actions=[FissionTask.template_fp.set(fingerprint)],
                    condition=FissionTask.task_id.exists())


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
    pk = task_pk(tenant_id, task_id)
    for i in range(0, len(codes), CODES_PER_TRANSACTION):
        chunk = codes[i:i + CODES_PER_TRANSACTION]
        for _ in range(5):
            task = load_task(tenant_id, task_id)
            total = int(task.codes_total)
            try:
                with store.transaction() as tx:
                    tx.update(task, actions=[FissionTask.codes_total.set(total + len(chunk))],
                              condition=FissionTask.codes_total == total)
                    for n, code in enumerate(chunk, start=total):
                        tx.save(RewardCode(pk=pk, n=n, code=code), condition=RewardCode.n.does_not_exist())
                break
            except TransactWriteError as exc:
                if not store.cancel_codes(exc):
                    raise
        else:
            raise Conflict("the code pool kept changing; retry", code="concurrent-change")
    task = load_task(tenant_id, task_id)
    return {"added": len(codes), "codes_total": int(task.codes_total),
            "codes_issued": int(task.codes_issued)}


def list_codes(tenant_id: str, task_id: str, limit: int, cursor: str | None) -> dict:
    load_task(tenant_id, task_id)
    start = None
    if cursor:
        if not cursor.isdigit():
            raise ValidationFailed("invalid cursor", code="invalid-cursor", field="cursor")
        start = {"pk": {"S": task_pk(tenant_id, task_id)}, "n": {"N": cursor}}
    result = RewardCode.query(task_pk(tenant_id, task_id), limit=limit, last_evaluated_key=start)
    items = [{"n": int(c.n), "code": c.code, "participant_id": c.participant_id,
              "claimed_at": c.claimed_at.isoformat() if c.claimed_at else None} for c in result]
    last = result.last_evaluated_key
    return {"items": items, "next_cursor": last["n"]["N"] if last else None}


# ---- participants ---------------------------------------------------------------------------------

def identity_participant_id(tenant_id: str, task_id: str, user_id: str | None,
                            openid: str | None) -> str:
    """The same person (by user_id, else openid) always gets the same participant in a task."""
    ident = f"u:{user_id}" if user_id else f"o:{openid}"
    digest = hashlib.sha256(f"{tenant_id}|{task_id}|{ident}".encode()).digest()
    return "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:refs.PARTICIPANT_LEN])


def participant_ref(p: Participant) -> str:
    return refs.make(p.tenant_id, p.task_id, p.participant_id, p.nonce)


def participant_key(p: Participant) -> str:
    return refs.make(p.tenant_id, p.task_id, p.participant_id, p.secret)


def links(task: FissionTask, p: Participant) -> dict:
    base = f"{get_settings().public_url}/p/{participant_key(p)}"
    return {"ref": participant_ref(p),
            "invite_url": f"{scan_url(task.tenant_id, task.livecode_id)}?ref={participant_ref(p)}",
            "poster_url": f"{base}/poster", "progress_url": base}


def participant_view(task: FissionTask, p: Participant) -> dict:
    invites, goal = int(p.invites), int(task.goal)
    return {"participant_id": p.participant_id, **links(task, p), "nickname": p.nickname,
            "avatar_url": media.public_url(p.avatar_key), "user_id": p.user_id, "openid": p.openid,
            "invites": invites, "goal": goal, "remaining": max(goal - invites, 0),
            "rewarded": p.rewarded_at is not None,
            "rewarded_at": p.rewarded_at.isoformat() if p.rewarded_at else None,
            "reward_code": p.reward_code, "created_at": p.created_at.isoformat(),
            "suspicious": {"reason": p.suspicious, "at": p.suspicious_at.isoformat()
                           if p.suspicious_at else None} if p.suspicious else None}


def _parse_participant(body: dict) -> dict:
    v.only_keys(body, PARTICIPANT_FIELDS)
    values = {"nickname": v.text(body, "nickname", required=True, max_len=64),
              "user_id": v.text(body, "user_id", max_len=128),
              "openid": v.text(body, "openid", max_len=128)}
    values["avatar"] = images.from_base64(body["avatar"], "avatar") \
        if body.get("avatar") is not None else None
    return values


def load_participant(tenant_id: str, task_id: str, participant_id: str) -> Participant:
    if not is_id(participant_id, refs.PARTICIPANT_LEN):
        raise NotFound("no such participant", code="participant-not-found")
    try:
        return Participant.get(task_pk(tenant_id, task_id), participant_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("no such participant", code="participant-not-found") from None


def register(tenant_id: str, task_id: str, body: dict,
             now: datetime | None = None) -> tuple[dict, bool]:
    """A new participant (True), or the same person's existing one with name/avatar refreshed."""
    from chalicelib.posters import render

    now = now or utcnow()
    values = _parse_participant(body)
    task = load_task(tenant_id, task_id)
    if status(task, now) == "ended":
        raise Conflict("this fission task has ended", code="task-ended")
    avatar_key = None
    if values["avatar"] is not None:
        avatar_key = media.put(tenant_id, "img", render.prepare_avatar(values["avatar"].data), "jpg")
    known = values["user_id"] or values["openid"]
    pid = identity_participant_id(tenant_id, task_id, values["user_id"], values["openid"]) \
        if known else new_id(refs.PARTICIPANT_LEN)
    p = Participant(pk=task_pk(tenant_id, task_id), participant_id=pid, tenant_id=tenant_id,
                    task_id=task_id, nonce=refs.new_nonce(), secret=refs.new_secret(),
                    nickname=values["nickname"], avatar_key=avatar_key, user_id=values["user_id"],
                    openid=values["openid"], invites=0, created_at=now, updated_at=now)
    for attempt in range(4):
        try:
            with store.transaction() as tx:
                tx.save(p, condition=Participant.participant_id.does_not_exist())
                tx.update(task, actions=[FissionTask.participants.add(1)],
                          condition=FissionTask.task_id.exists())
            return participant_view(task, p), True
        except TransactWriteError as exc:
            reasons = store.cancel_codes(exc)
            if "TransactionConflict" in reasons and attempt < 3:
                continue  # a concurrent registration of the same person: try again
            if reasons[1:2] == ["ConditionalCheckFailed"]:
                raise NotFound("no such fission task", code="task-not-found") from None
            if reasons[:1] != ["ConditionalCheckFailed"] or any(reasons[1:]):
                raise  # only a failed "does not exist" condition means "already registered"
            break
    return participant_view(task, _refresh(task, pid, values, avatar_key, now)), False


def _refresh(task: FissionTask, pid: str, values: dict, avatar_key: str | None,
             now: datetime) -> Participant:
    p = load_participant(task.tenant_id, task.task_id, pid)
    actions = [Participant.updated_at.set(now)]
    if values["nickname"] != p.nickname:
        actions.append(Participant.nickname.set(values["nickname"]))
    if avatar_key and avatar_key != p.avatar_key:
        actions.append(Participant.avatar_key.set(avatar_key))
    for key in ("user_id", "openid"):
        if values[key] and not getattr(p, key):
            actions.append(getattr(Participant, key).set(values[key]))
    p.update(actions=actions)
    return p


def get_participant(tenant_id: str, task_id: str, participant_id: str) -> dict:
    task = load_task(tenant_id, task_id)
    return participant_view(task, load_participant(tenant_id, task_id, participant_id))


def list_participants(tenant_id: str, task_id: str, limit: int, cursor: str | None,
                      suspicious: bool = False) -> dict:
    """A page of the task's participants; ``suspicious``: only those anti-farming flagged (a
    filtered Query of the task's partition)."""
    task = load_task(tenant_id, task_id)
    start = None
    if cursor:
        if not is_id(cursor, refs.PARTICIPANT_LEN):
            raise ValidationFailed("invalid cursor", code="invalid-cursor", field="cursor")
        start = {"pk": {"S": task_pk(tenant_id, task_id)}, "participant_id": {"S": cursor}}
    result = Participant.query(task_pk(tenant_id, task_id), limit=limit, last_evaluated_key=start,
                               filter_condition=Participant.suspicious.exists() if suspicious else None)
    items = [participant_view(task, p) for p in result]
    last = result.last_evaluated_key
    return {"items": items, "next_cursor": last["participant_id"]["S"] if last else None}


# ---- the participant's own (public, by private key) ----------------------------------------------

def by_key(key: str) -> tuple[FissionTask, Participant]:
    parsed = refs.parse_key(key)
    if parsed is None:
        raise NotFound("no such participant", code="participant-not-found")
    task, p = store.task_and_participant(parsed.tenant_id, parsed.task_id, parsed.participant_id)
    if task is None or p is None or not hmac.compare_digest(p.secret, parsed.token):
        raise NotFound("no such participant", code="participant-not-found")
    return task, p


def progress_view(task: FissionTask, p: Participant) -> dict:
    invites, goal = int(p.invites), int(task.goal)
    rewarded = p.rewarded_at is not None
    return {"task": {"id": task.task_id, "name": task.name, "goal": goal, "status": status(task),
                     "starts_at": task.starts_at.isoformat(),
                     "ends_at": task.ends_at.isoformat() if task.ends_at else None},
            "participant_id": p.participant_id, "nickname": p.nickname, "invites": invites,
            "remaining": max(goal - invites, 0), "rewarded": rewarded,
            "reward": {"message": p.reward_message, "code": p.reward_code,
                       "rewarded_at": p.rewarded_at.isoformat()} if rewarded else None,
            "invite_url": links(task, p)["invite_url"], "poster_url": links(task, p)["poster_url"]}


def progress(key: str, cookie_header: str = "") -> tuple[dict, str | None]:
    """The participant's progress; also marks this device as the participant's own, so a scan of
    their own poster from it never counts. Returns the view and a Set-Cookie value (or None)."""
    task, p = by_key(key)
    return progress_view(task, p), link_device(task, p, cookie_header)


def link_device(task: FissionTask, p: Participant, cookie_header: str) -> str | None:
    """Use (or mint) the device's visit cookie for the task's live code and remember its visitor id
    on the participant. A minted cookie also makes the device a returning visitor of the code."""
    from chalicelib.livecodes import cookies

    cfg = get_settings()
    visit = cookies.read(cookie_header, task.livecode_id, app_secret())
    set_cookie = None
    if visit is None:  # no target yet ("-") and no scan day yet ("-"): the next scan is not "new"
        visit = cookies.Visit(cookies.new_visitor_id(), "-", "-")
        set_cookie = cookies.write(task.livecode_id, visit, app_secret(), "/", cfg.secure_cookies)
    own = p.own_visitors or set()
    if visit.visitor_id not in own and len(own) < MAX_OWN_VISITORS:
        try:
            p.update(actions=[Participant.own_visitors.add({visit.visitor_id})],
                     condition=Participant.participant_id.exists())
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
        if set_cookie is None:  # a device that scanned before: maybe the participant's own poster
            revoke_own_invite(task, p, visit.visitor_id)
    return set_cookie


def revoke_own_invite(task: FissionTask, p: Participant, visitor_id: str) -> bool:
    """Take back an invite counted for a device that turned out to be the participant's own (they
    scanned their poster before ever opening their page). A granted reward stays granted."""
    pk = task_pk(task.tenant_id, task.task_id)
    try:
        invite = Invite.get(pk, visitor_id, consistent_read=True)
    except DoesNotExist:
        return False
    if invite.participant_id != p.participant_id:
        return False
    try:
        with store.transaction() as tx:
            tx.delete(invite, condition=Invite.participant_id == p.participant_id)
            tx.update(p, actions=[Participant.invites.add(-1)],
                      condition=Participant.invites > 0)
            tx.update(task, actions=[FissionTask.invites.add(-1), FissionTask.not_counted_self.add(1)],
                      condition=FissionTask.task_id.exists())
    except TransactWriteError as exc:
        if not store.cancel_codes(exc):
            raise
        return False
    return True


# ---- the mini-program user's own (mp token) ------------------------------------------------------

def mp_join(tenant_id: str, task_id: str, user_id: str, body: dict) -> tuple[dict, bool]:
    """Register the logged-in mini-program user (their participant's user_id is the mp user, so
    joining again answers the same participant)."""
    v.only_keys(body, ("nickname", "avatar"))
    return register(tenant_id, task_id, {**body, "user_id": user_id})


def mp_participation(tenant_id: str, task_id: str, user_id: str) -> dict:
    """The mp user's participant: 2 AWS calls (task and participant in one BatchGetItem, the rank
    Query)."""
    if not is_id(task_id, TASK_ID_LEN):
        raise NotFound("no such fission task", code="task-not-found")
    pid = identity_participant_id(tenant_id, task_id, user_id, None)
    task, p = store.task_and_participant(tenant_id, task_id, pid)
    if task is None:
        raise NotFound("no such fission task", code="task-not-found")
    if p is None:
        raise NotFound("you have not joined this fission task (POST .../join)",
                       code="not-participating")
    own = progress_view(task, p)
    view = {k: val for k, val in participant_view(task, p).items() if k != "suspicious"}
    return {**view, "task": own["task"], "reward": own["reward"], "rank": rank(p)}


def rank(p: Participant) -> int | None:
    """1 + the participants with more invites (ties share a rank), read from the leaderboard index
    (eventually consistent); None beyond the top RANK_DEPTH."""
    above = Participant.leaderboard_index.query(p.pk, Participant.invites > int(p.invites),
                                                limit=RANK_DEPTH, attributes_to_get=["participant_id"])
    count = sum(1 for _ in above)
    return count + 1 if count < RANK_DEPTH else None


def poster_for_key(key: str) -> bytes:
    """≤ 2 AWS calls once rendered: the task and participant (one BatchGetItem), the S3 object."""
    from chalicelib.posters import service as posters

    task, p = by_key(key)
    return posters.poster(task.tenant_id, task.template_id, task.template_fp,
                          links(task, p)["invite_url"], p.nickname, p.avatar_key)


# ---- leaderboard, rewards, stats ------------------------------------------------------------------

def leaderboard(tenant_id: str, task_id: str, limit: int) -> dict:
    task = load_task(tenant_id, task_id)
    rows = Participant.leaderboard_index.query(task_pk(tenant_id, task_id), scan_index_forward=False,
                                               limit=limit)
    items = [{"rank": i, "participant_id": p.participant_id, "nickname": p.nickname,
              "avatar_url": media.public_url(p.avatar_key), "invites": int(p.invites),
              "rewarded": p.rewarded_at is not None} for i, p in enumerate(rows, start=1)]
    return {"items": items[:limit], "goal": int(task.goal), "next_cursor": None}


def rewards(tenant_id: str, task_id: str, limit: int, cursor: str | None) -> dict:
    """Rewards granted, newest first, each with its notice: status (pending, sending, sent,
    skipped, failed), channel, reason, the user it was addressed to and when."""
    task = load_task(tenant_id, task_id)
    pk = task_pk(tenant_id, task_id)
    start = None
    if cursor:
        ts, _, pid = cursor.partition(".")
        if not ts.isdigit() or not is_id(pid, refs.PARTICIPANT_LEN):
            raise ValidationFailed("invalid cursor", code="invalid-cursor", field="cursor")
        start = {"pk": {"S": pk}, "participant_id": {"S": pid}, "rewarded_ts": {"N": ts}}
    result = Participant.rewards_index.query(pk, scan_index_forward=False, limit=limit,
                                             last_evaluated_key=start)
    items = [{"participant_id": p.participant_id, "nickname": p.nickname, "user_id": p.user_id,
              "openid": p.openid, "invites": int(p.invites), "message": p.reward_message,
              "code": p.reward_code, "note": p.reward_note, "notice": p.notice or "pending",
              "notice_channel": p.notice_channel or "outbox", "notice_reason": p.notice_reason,
              "notice_detail": p.notice_detail, "notice_user_id": p.notice_user,
              "notice_at": p.notice_at.isoformat() if p.notice_at else None,
              "rewarded_at": p.rewarded_at.isoformat()} for p in result]
    last = result.last_evaluated_key
    cursor_out = f"{last['rewarded_ts']['N']}.{last['participant_id']['S']}" if last else None
    return {"items": items, "next_cursor": cursor_out, "goal": int(task.goal)}


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
