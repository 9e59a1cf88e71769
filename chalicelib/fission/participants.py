"""Fission participants: registration (one participant per person and task), their links and
views, the operator's lists and the leaderboard."""
from __future__ import annotations

import hashlib
from datetime import datetime

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action

from chalicelib import clock, images, media
from chalicelib import validate as v
from chalicelib.error_codes import INVALID_CURSOR, PARTICIPANT_NOT_FOUND, TASK_ENDED, TASK_NOT_FOUND
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.fission import refs, store
from chalicelib.fission.models import FissionTask, Participant, task_pk
from chalicelib.fission.tasks import load_task, scan_url, status
from chalicelib.ids import ALPHABET, is_id, new_id
from chalicelib.settings import get_settings

PARTICIPANT_FIELDS = ("user_id", "openid", "nickname", "avatar")
RANK_DEPTH = 100  # "rank" of the mini-program's own view: exact within the top 100, else null


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
    missing = NotFound("no such participant", code=PARTICIPANT_NOT_FOUND)
    if not is_id(participant_id, refs.PARTICIPANT_LEN):
        raise missing
    return Participant.get_or_raise(task_pk(tenant_id, task_id), participant_id, missing)


def register(tenant_id: str, task_id: str, body: dict,
             now: datetime | None = None) -> tuple[dict, bool]:
    """A new participant (True), or the same person's existing one with name/avatar refreshed."""
    from chalicelib.posters import render

    now = now or clock.now()
    values = _parse_participant(body)
    task = load_task(tenant_id, task_id)
    if status(task, now) == "ended":
        raise Conflict("this fission task has ended", code=TASK_ENDED)
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
    if _save_new(task, p):
        return participant_view(task, p), True
    return participant_view(task, _refresh(task, pid, values, avatar_key, now)), False


def _save_new(task: FissionTask, p: Participant) -> bool:
    """Save the participant and count it on the task; False when this person is registered."""
    for attempt in range(4):
        try:
            with FissionTask.transaction() as tx:
                tx.save(p, condition=Participant.participant_id.does_not_exist())
                tx.update(task, actions=[FissionTask.participants.add(1)],
                          condition=FissionTask.task_id.exists())
            return True
        except TransactWriteError as exc:
            reasons = store.cancel_codes(exc)
            if "TransactionConflict" in reasons and attempt < 3:
                continue  # a concurrent registration of the same person: try again
            if reasons[1:2] == ["ConditionalCheckFailed"]:
                raise NotFound("no such fission task", code=TASK_NOT_FOUND) from None
            if reasons[:1] != ["ConditionalCheckFailed"] or any(reasons[1:]):
                raise  # only a failed "does not exist" condition means "already registered"
            return False
    return False


def _refresh(task: FissionTask, pid: str, values: dict, avatar_key: str | None,
             now: datetime) -> Participant:
    p = load_participant(task.tenant_id, task.task_id, pid)
    actions: list[Action] = [Participant.updated_at.set(now)]
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
    pk = task_pk(tenant_id, task_id)
    start = None
    if cursor:
        if not is_id(cursor, refs.PARTICIPANT_LEN):
            raise ValidationFailed("invalid cursor", code=INVALID_CURSOR, field="cursor")
        start = Participant.raw_key(pk, cursor)
    result = Participant.query(pk, limit=limit, last_evaluated_key=start,
                               filter_condition=Participant.suspicious.exists() if suspicious else None)
    items = [participant_view(task, p) for p in result]
    last = result.last_evaluated_key
    return {"items": items, "next_cursor": last["participant_id"]["S"] if last else None}


def leaderboard(tenant_id: str, task_id: str, limit: int) -> dict:
    task = load_task(tenant_id, task_id)
    rows = Participant.leaderboard_index.query(task_pk(tenant_id, task_id), scan_index_forward=False,
                                               limit=limit)
    items = [{"rank": i, "participant_id": p.participant_id, "nickname": p.nickname,
              "avatar_url": media.public_url(p.avatar_key), "invites": int(p.invites),
              "rewarded": p.rewarded_at is not None} for i, p in enumerate(rows, start=1)]
    return {"items": items[:limit], "goal": int(task.goal), "next_cursor": None}


def rank(p: Participant) -> int | None:
    """1 + the participants with more invites (ties share a rank), read from the leaderboard index
    (eventually consistent); None beyond the top RANK_DEPTH."""
    above = Participant.leaderboard_index.query(p.pk, Participant.invites > int(p.invites),
                                                limit=RANK_DEPTH, attributes_to_get=["participant_id"])
    count = sum(1 for _ in above)
    return count + 1 if count < RANK_DEPTH else None
