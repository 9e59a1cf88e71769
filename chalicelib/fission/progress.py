"""A participant's own: their progress page and poster (public, by their private key), the devices
that are theirs (so a scan of their own poster never counts), and the logged-in mini-program
user's own participation (mp token)."""
from __future__ import annotations

import hmac

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from chalicelib import validate as v
from chalicelib.db import condition_failed
from chalicelib.error_codes import NOT_PARTICIPATING, PARTICIPANT_NOT_FOUND, TASK_NOT_FOUND
from chalicelib.errors import NotFound
from chalicelib.fission import refs, store
from chalicelib.fission.models import FissionTask, Invite, Participant, task_pk
from chalicelib.fission.participants import (
    identity_participant_id,
    links,
    participant_view,
    rank,
    register,
)
from chalicelib.fission.tasks import TASK_ID_LEN, status
from chalicelib.ids import is_id
from chalicelib.secret_store import app_secret
from chalicelib.settings import get_settings

MAX_OWN_VISITORS = 20


def by_key(key: str) -> tuple[FissionTask, Participant]:
    parsed = refs.parse_key(key)
    if parsed is None:
        raise NotFound("no such participant", code=PARTICIPANT_NOT_FOUND)
    task, p = store.task_and_participant(parsed.tenant_id, parsed.task_id, parsed.participant_id)
    if task is None or p is None or not hmac.compare_digest(p.secret, parsed.token):
        raise NotFound("no such participant", code=PARTICIPANT_NOT_FOUND)
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
        with FissionTask.transaction() as tx:
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


def poster_for_key(key: str) -> bytes:
    """≤ 2 AWS calls once rendered: the task and participant (one BatchGetItem), the S3 object."""
    from chalicelib.posters import service as posters

    task, p = by_key(key)
    return posters.poster(task.tenant_id, task.template_id, task.template_fp,
                          links(task, p)["invite_url"], p.nickname, p.avatar_key)


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
        raise NotFound("no such fission task", code=TASK_NOT_FOUND)
    pid = identity_participant_id(tenant_id, task_id, user_id, None)
    task, p = store.task_and_participant(tenant_id, task_id, pid)
    if task is None:
        raise NotFound("no such fission task", code=TASK_NOT_FOUND)
    if p is None:
        raise NotFound("you have not joined this fission task (POST .../join)",
                       code=NOT_PARTICIPATING)
    own = progress_view(task, p)
    view = {k: val for k, val in participant_view(task, p).items() if k != "suspicious"}
    return {**view, "task": own["task"], "reward": own["reward"], "rank": rank(p)}
