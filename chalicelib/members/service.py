"""Team members: invite by link, accept, list, change role / name / disabled, remove.

Invariants kept with conditional writes in one transaction each:
- an email is unique within a tenant (the ``MemberLogin`` item is put with attribute_not_exists);
- a tenant that has an owner keeps at least one active owner: every change that takes an active
  owner away decrements ``Tenant.owner_count`` on the condition that it is at least 2;
- only an owner grants, changes or removes the ``owner`` role; nobody invites above their role.
"""
from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib import clock, pagination
from chalicelib import validate as v
from chalicelib.auth.models import Tenant
from chalicelib.error_codes import (
    CONCURRENT_CHANGE,
    FORBIDDEN_ROLE,
    INVITE_EXPIRED,
    INVITE_NOT_FOUND,
    LAST_OWNER,
    MEMBER_DISABLED,
    MEMBER_EXISTS,
    MEMBER_NOT_FOUND,
)
from chalicelib.errors import Conflict, DomainError, Forbidden, NotFound
from chalicelib.ids import new_id
from chalicelib.members import passwords, policy, tokens
from chalicelib.members.emails import normalize_email
from chalicelib.members.models import Member, MemberLogin
from chalicelib.settings import get_settings


class Actor(NamedTuple):
    kind: str  # member | api_key | admin
    id: str
    role: str


class InviteGone(DomainError):
    status = 410
    code = INVITE_EXPIRED


def view(member: Member) -> dict:
    answer = {"id": member.member_id, "email": member.email, "name": member.name,
              "role": member.role, "status": member.status, "tenant_id": member.tenant_id,
              "created_at": member.created_at.isoformat(),
              "last_login_at": member.last_login_at.isoformat() if member.last_login_at else None}
    if member.status == "invited" and member.invite_expires_at:
        answer["invite_expires_at"] = member.invite_expires_at.isoformat()
    return answer


def get_member(tenant_id: str, member_id: str) -> Member:
    if not member_id or len(member_id) != tokens.MEMBER_ID_LEN:
        raise NotFound("no such member", code=MEMBER_NOT_FOUND)
    try:
        return Member.get(tenant_id, member_id)
    except DoesNotExist:
        raise NotFound("no such member", code=MEMBER_NOT_FOUND) from None


def list_members(tenant_id: str, limit: int, cursor: str | None) -> dict:
    return pagination.by_tenant(Member, tenant_id, limit, cursor, view, tokens.MEMBER_ID_LEN)


def _transaction() -> TransactWrite:
    return Member.transaction()


def _role(body: dict, required: bool) -> str | None:
    return v.choice(body, "role", policy.ROLES, required=required)


def _require_owner_for(actor_role: str, *roles: str | None) -> None:
    if "owner" in roles and actor_role != "owner":
        raise Forbidden("only an owner can grant, change or remove the owner role; this needs the "
                        "owner role", code=FORBIDDEN_ROLE)


def _invite_link(token: str) -> str:
    return f"{get_settings().console_url.rstrip('/')}/invite/{token}"  # the console's history-mode route


def _issue_invite(member: Member) -> dict:
    token, token_hash = tokens.issue_invite(member.tenant_id, member.member_id)
    member.invite_hash = token_hash
    member.invite_expires_at = clock.now() + timedelta(days=get_settings().invite_days)
    return {"invite_token": token, "invite_url": _invite_link(token),
            "invite_expires_at": member.invite_expires_at.isoformat()}


def invite(tenant_id: str, body: dict, inviter_role: str, inviter_id: str) -> dict:
    """A new member with status ``invited`` and a link to accept; the token is answered once."""
    v.only_keys(body, {"email", "name", "role"})
    email = normalize_email(body.get("email"))
    role = v.choice(body, "role", policy.ROLES, required=True)
    if not policy.at_most(role, inviter_role):
        raise Forbidden(f"a {inviter_role} cannot invite a member with the {role} role; this needs "
                        f"the {role} role", code=FORBIDDEN_ROLE, field="role")
    member = Member(tenant_id=tenant_id, member_id=new_id(tokens.MEMBER_ID_LEN), email=email,
                    name=v.text(body, "name", max_len=100), role=role, status="invited",
                    created_at=clock.now(), invited_by=inviter_id)
    link = _issue_invite(member)
    try:
        with _transaction() as tx:
            tx.save(MemberLogin(email=email, tenant_id=tenant_id, member_id=member.member_id),
                    condition=MemberLogin.email.does_not_exist())
            tx.save(member, condition=Member.member_id.does_not_exist())
    except TransactWriteError as exc:
        if _cancelled(exc, 0):
            raise Conflict(f"{email} is already a member of this tenant", code=MEMBER_EXISTS,
                           field="email") from None
        raise
    return {"member": view(member), **link}


def reissue_invite(tenant_id: str, member_id: str, actor: Actor) -> dict:
    """A new invite link for an invited member, or a password reset link for an active one (the
    member's password and sessions stay until the link is used); the previous link stops working."""
    member = get_member(tenant_id, member_id)
    _require_owner_for(actor.role, member.role)
    if member.status not in ("invited", "active"):
        raise Conflict("a disabled member gets no link; enable the member first",
                       code=MEMBER_DISABLED)
    status = member.status
    link = _issue_invite(member)
    member.update(actions=[Member.invite_hash.set(member.invite_hash),
                           Member.invite_expires_at.set(member.invite_expires_at)],
                  condition=Member.status == status)
    return {"member": view(member), **link}


def accept_invite(token: str, body: dict) -> Member:
    """Sets the password of an invited member and activates it; the caller opens a session."""
    v.only_keys(body, {"password", "name"})
    parsed = tokens.read_invite(token)
    if parsed is None:
        raise NotFound("no such invite (it may have been used already)", code=INVITE_NOT_FOUND)
    tenant_id, member_id, secret = parsed
    try:
        member = Member.get(tenant_id, member_id)
    except DoesNotExist:
        raise NotFound("no such invite (it may have been used already)", code=INVITE_NOT_FOUND) \
            from None
    if member.status not in ("invited", "active") or not tokens.digest_matches(secret,
                                                                                member.invite_hash):
        raise NotFound("no such invite (it may have been used already)", code=INVITE_NOT_FOUND)
    was_invited = member.status == "invited"
    if member.invite_expires_at is None or member.invite_expires_at <= clock.now():
        raise InviteGone("this invite has expired; ask an admin for a new link")
    password = passwords.check_rules(body.get("password"), member.email)
    name = v.text(body, "name", max_len=100)
    actions: list[Action] = [Member.status.set("active"), Member.invite_hash.remove(),
               Member.invite_expires_at.remove(),
               Member.password_hash.set(passwords.hash_password(password, _cost()))]
    if name:
        actions.append(Member.name.set(name))
    try:
        with _transaction() as tx:
            tx.update(member, actions=actions, condition=(Member.status == member.status)
                      & (Member.invite_hash == member.invite_hash))
            if member.role == "owner" and was_invited:
                tx.update(Tenant(tenant_id=tenant_id), actions=[Tenant.owner_count.add(1)])
    except TransactWriteError as exc:
        if _cancelled(exc, 0):
            raise NotFound("no such invite (it was used a moment ago)", code=INVITE_NOT_FOUND) \
                from None
        raise
    if not was_invited:  # a password reset: sessions opened with the old password end
        _after_change(member, revoke=True)
    return get_member(tenant_id, member_id)


def update_member(tenant_id: str, member_id: str, body: dict, actor: Actor) -> dict:
    v.only_keys(body, {"role", "name", "disabled"})
    member = get_member(tenant_id, member_id)
    role = _role(body, required=False) or member.role
    disabled = v.boolean(body, "disabled")
    _require_owner_for(actor.role, member.role, role)
    status = member.status
    if disabled is True:
        status = "disabled"
    elif disabled is False and member.status == "disabled":
        status = "active" if member.password_hash else "invited"
    actions: list[Action] = []
    if role != member.role:
        actions.append(Member.role.set(role))
    if status != member.status:
        actions.append(Member.status.set(status))
    if "name" in body:
        name = v.text(body, "name", max_len=100)
        actions.append(Member.name.set(name) if name else Member.name.remove())
    if actions:
        delta = _owner_weight(role, status) - _owner_weight(member.role, member.status)
        _write_with_owner_count(member, delta, update=actions)
        _after_change(member, revoke=status == "disabled")
    return view(get_member(tenant_id, member_id))


def remove_member(tenant_id: str, member_id: str, actor: Actor) -> None:
    member = get_member(tenant_id, member_id)
    _require_owner_for(actor.role, member.role)
    _write_with_owner_count(member, -_owner_weight(member.role, member.status), delete=True)
    _after_change(member, revoke=True)


def _owner_weight(role: str, status: str) -> int:
    return 1 if role == "owner" and status == "active" else 0


def _write_with_owner_count(member: Member, delta: int, update: list[Action] | None = None,
                            delete: bool = False) -> None:
    unchanged = (Member.role == member.role) & (Member.status == member.status)
    # PynamoDB sends deletes, then puts, then updates: the cancellation reasons follow that order.
    if delete:
        member_at, tenant_at = 0, 2
    else:
        member_at, tenant_at = (1 if delta else 0), 0
    try:
        with _transaction() as tx:
            tenant = Tenant(tenant_id=member.tenant_id)
            if delta < 0:
                tx.update(tenant, actions=[Tenant.owner_count.add(delta)],
                          condition=Tenant.owner_count >= 1 - delta)
            elif delta > 0:
                tx.update(tenant, actions=[Tenant.owner_count.add(delta)])
            if delete:
                tx.delete(member, condition=unchanged)
                tx.delete(MemberLogin(email=member.email, tenant_id=member.tenant_id))
            else:
                tx.update(member, actions=update or [], condition=unchanged)
    except TransactWriteError as exc:
        if _cancelled(exc, member_at):
            raise Conflict("the member changed meanwhile; read it again and retry",
                           code=CONCURRENT_CHANGE) from None
        if delta < 0 and _cancelled(exc, tenant_at):
            raise Conflict("a tenant keeps at least one owner: make another member owner first",
                           code=LAST_OWNER) from None
        raise


def _after_change(member: Member, revoke: bool) -> None:
    from chalicelib.members import sessions

    if revoke:
        sessions.revoke_member(member.tenant_id, member.member_id, reason="member-changed")
    sessions.forget_member(member.tenant_id, member.member_id)


def _cancelled(exc: TransactWriteError, index: int) -> bool:
    reasons = getattr(exc, "cancellation_reasons", None) or []
    return len(reasons) > index and reasons[index] is not None \
        and reasons[index].code == "ConditionalCheckFailed"


def _cost() -> passwords.Cost:
    return passwords.Cost.parse(get_settings().scrypt_cost)
