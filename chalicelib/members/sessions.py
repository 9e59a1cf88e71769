"""Password login, refresh with rotation, logout, and the access-token check of every request.

- Login answers the same 401 ``invalid-credentials`` for an unknown email, a wrong password, an
  invited or disabled member and a locked one, and costs the same scrypt either way, so the answer
  tells nobody which emails exist. ``lockout_failures`` (5) wrong passwords in a row lock the member
  for ``lockout_minutes`` (15); every login, refresh and invite acceptance is also throttled per
  client IP (``login_ip_per_minute``, a token bucket per container: chalicelib/ratelimit.py).
- A session's refresh token rotates at each refresh; presenting an older (genuine) one again means
  it was copied, so the whole session is revoked (RFC 6819 §5.2.2.3; OAuth 2.0 Security BCP §4.14).
- An access token is checked against its session and member records, cached per container for
  ``session_cache_seconds`` (5): logout in this container is immediate, elsewhere within seconds.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from chalicelib import clock, db
from chalicelib.auth import tenants
from chalicelib.error_codes import (
    INVALID_CREDENTIALS,
    INVALID_REFRESH_TOKEN,
    INVALID_TOKEN,
    REFRESH_TOKEN_REUSED,
    SESSION_ENDED,
    TENANT_REQUIRED,
    TOKEN_EXPIRED,
    WRONG_PASSWORD,
)
from chalicelib.errors import Conflict, RateLimited, Unauthorized, ValidationFailed
from chalicelib.ids import new_id
from chalicelib.members import passwords, tokens
from chalicelib.members.models import Member, MemberLogin, Session, session_key
from chalicelib.settings import get_settings

MAX_TENANTS_PER_EMAIL = 10
INVALID = "wrong email or password (after repeated failures an account is locked for a while)"


class MemberIdentity(NamedTuple):
    tenant_id: str
    member_id: str
    session_id: str
    role: str
    email: str
    name: str | None


_cache: dict[tuple[str, str], tuple[float, MemberIdentity | None]] = {}
_guard: list = []


def clear_cache() -> None:
    _cache.clear()
    _guard.clear()


def forget_member(tenant_id: str, member_id: str) -> None:
    for key in [k for k in _cache if k[0] == tenant_id and k[1].startswith(member_id + "#")]:
        _cache.pop(key, None)


def throttle(ip: str) -> None:
    """Per-IP token bucket for the public login-like routes (429 ``rate-limited``)."""
    if not _guard:
        from chalicelib.ratelimit import Buckets

        per_minute = get_settings().login_ip_per_minute
        _guard.append(Buckets(per_minute / 60, max(per_minute, 1)))
    allowed, wait = _guard[0].allow(ip or "-")
    if not allowed:
        raise RateLimited(f"too many login attempts from this address; retry in {int(wait) + 1} s")


def _cost() -> passwords.Cost:
    return passwords.Cost.parse(get_settings().scrypt_cost)


# --- login ---------------------------------------------------------------------------------------

def login(body: dict, ip: str, user_agent: str, note: dict) -> dict:
    from chalicelib import validate as v
    from chalicelib.members.emails import normalize_email

    throttle(ip)
    v.only_keys(body, {"email", "password", "tenant_id"})
    email = normalize_email(body.get("email"))
    password = body.get("password")
    if not isinstance(password, str) or not password:
        raise ValidationFailed("'password' is required", field="password")
    password = password[:passwords.MAX_LENGTH + 1]
    tenant_id = v.text(body, "tenant_id", max_len=20)
    logins = _logins(email, tenant_id)
    if not logins:
        passwords.verify_password(password, None, _cost())  # same cost as a real check
        raise Unauthorized(INVALID, code=INVALID_CREDENTIALS)
    if len(logins) == 1:
        member = _check_one(logins[0], password, note)
        return open_session(member, ip, user_agent, note)
    matching = [m for m in (_load(x) for x in logins) if m is not None
                and _password_ok(m, password)]
    if not matching:
        for login_item in logins:
            found = _load(login_item)
            if found is not None and found.status == "active":
                _failed(found, note)
        raise Unauthorized(INVALID, code=INVALID_CREDENTIALS)
    choices = [{"id": m.tenant_id, "name": tenants.get_tenant(m.tenant_id).name} for m in matching]
    raise Conflict("this email belongs to several tenants: send tenant_id with one of them",
                   code=TENANT_REQUIRED, details={"tenants": choices})


def _logins(email: str, tenant_id: str | None) -> list[MemberLogin]:
    if tenant_id:
        try:
            return [MemberLogin.get(email, tenant_id)]
        except DoesNotExist:
            return []
    return list(MemberLogin.query(email, limit=MAX_TENANTS_PER_EMAIL))


def _load(login_item: MemberLogin) -> Member | None:
    try:
        return Member.get(login_item.tenant_id, login_item.member_id)
    except DoesNotExist:
        return None


def _locked(member: Member) -> bool:
    return member.locked_until is not None and member.locked_until > clock.now()


def _password_ok(member: Member, password: str) -> bool:
    valid = passwords.verify_password(password, member.password_hash, _cost())  # always pay the cost
    return valid and member.status == "active" and not _locked(member)


def _check_one(login_item: MemberLogin, password: str, note: dict) -> Member:
    member = _load(login_item)
    if member is None:
        passwords.verify_password(password, None, _cost())
        raise Unauthorized(INVALID, code=INVALID_CREDENTIALS)
    note.update(tenant_id=member.tenant_id, actor=_actor(member),
                object={"type": "member", "id": member.member_id})
    valid = passwords.verify_password(password, member.password_hash, _cost())
    if member.status != "active":
        note["outcome"] = f"login-refused-{member.status}"
        raise Unauthorized(INVALID, code=INVALID_CREDENTIALS)
    if _locked(member):
        note["outcome"] = "login-refused-locked"
        raise Unauthorized(INVALID, code=INVALID_CREDENTIALS)
    if not valid:
        _failed(member, note)
        raise Unauthorized(INVALID, code=INVALID_CREDENTIALS)
    _succeeded(member, password)
    return member


def _failed(member: Member, note: dict) -> None:
    cfg = get_settings()
    note.update(tenant_id=member.tenant_id, actor=_actor(member), outcome="failed-login",
                object={"type": "member", "id": member.member_id})
    member.update(actions=[Member.failed_logins.add(1)])
    if int(member.failed_logins or 0) >= cfg.lockout_failures:
        member.update(actions=[Member.failed_logins.set(0),
                               Member.locked_until.set(clock.now() + timedelta(minutes=cfg.lockout_minutes))])
        note["outcome"] = "failed-login-locked"


def _succeeded(member: Member, password: str) -> None:
    actions: list[Action] = [Member.last_login_at.set(clock.now())]
    if member.failed_logins:
        actions.append(Member.failed_logins.set(0))
    if member.locked_until is not None:
        actions.append(Member.locked_until.remove())
    if passwords.stored_cost(member.password_hash or "") != _cost():
        actions.append(Member.password_hash.set(passwords.hash_password(password, _cost())))
    member.update(actions=actions)


def _actor(member: Member) -> dict:
    return {"kind": "member", "id": member.member_id, "email": member.email}


# --- sessions ------------------------------------------------------------------------------------

def open_session(member: Member, ip: str, user_agent: str, note: dict | None = None) -> dict:
    cfg = get_settings()
    session_id = new_id(tokens.SESSION_ID_LEN)
    refresh, refresh_hash = tokens.issue_refresh(cfg.secret, member.tenant_id, member.member_id,
                                                 session_id, 0)
    expires = clock.now() + timedelta(days=cfg.session_days)
    Session(tenant_id=member.tenant_id, session_key=session_key(member.member_id, session_id),
            member_id=member.member_id, created_at=clock.now(), expires_at=expires, generation=0,
            refresh_hash=refresh_hash, ip=ip[:64] or None, user_agent=user_agent[:256] or None,
            ttl=expires + timedelta(days=1)).save()
    if note is not None:
        note.update(tenant_id=member.tenant_id, actor=_actor(member),
                    object={"type": "session", "id": session_id}, changed_fields=[])
    return _answer(member, session_id, refresh, expires)


def _answer(member: Member, session_id: str, refresh: str, session_expires: datetime) -> dict:
    cfg = get_settings()
    expires = int(time.time()) + cfg.access_token_seconds
    token = tokens.issue_access(cfg.secret, member.tenant_id, member.member_id, session_id, expires)
    tenant = tenants.get_tenant(member.tenant_id)
    return {"token": token, "token_type": "Bearer",
            "expires_at": datetime.fromtimestamp(expires, timezone.utc).isoformat(),
            "refresh_token": refresh, "refresh_expires_at": session_expires.isoformat(),
            "session_id": session_id,
            "member": {"id": member.member_id, "email": member.email, "name": member.name,
                       "role": member.role, "tenant_id": member.tenant_id},
            "tenant": {"id": tenant.tenant_id, "name": tenant.name, "timezone": tenant.timezone}}


def refresh(body: dict, ip: str, note: dict) -> dict:
    from chalicelib import validate as v

    throttle(ip)
    v.only_keys(body, {"refresh_token"})
    token = v.text(body, "refresh_token", required=True, max_len=300)
    claims = tokens.read_refresh(get_settings().secret, token)
    if claims is None:
        raise Unauthorized("invalid refresh token; log in again", code=INVALID_REFRESH_TOKEN)
    key = session_key(claims.member_id, claims.session_id)
    try:
        session = Session.get(claims.tenant_id, key, consistent_read=True)
    except DoesNotExist:
        raise Unauthorized("invalid refresh token; log in again", code=INVALID_REFRESH_TOKEN) \
            from None
    note.update(tenant_id=claims.tenant_id, changed_fields=[],
                actor={"kind": "member", "id": claims.member_id},
                object={"type": "session", "id": claims.session_id})
    if session.revoked_at is not None or session.expires_at <= clock.now():
        raise Unauthorized("this session has ended; log in again", code=SESSION_ENDED)
    if claims.generation < session.generation:
        _revoke(session, "refresh-reuse")
        note["outcome"] = "refresh-reuse"
        raise Unauthorized("this refresh token was already used; the session is revoked for "
                           "safety; log in again", code=REFRESH_TOKEN_REUSED)
    if claims.generation > session.generation or not tokens.digest_matches(claims.nonce,
                                                                            session.refresh_hash):
        raise Unauthorized("invalid refresh token; log in again", code=INVALID_REFRESH_TOKEN)
    member = _active_member(claims.tenant_id, claims.member_id)
    if member is None:
        _revoke(session, "member-changed")
        raise Unauthorized("this session has ended; log in again", code=SESSION_ENDED)
    new_token, new_hash = tokens.issue_refresh(get_settings().secret, claims.tenant_id,
                                               claims.member_id, claims.session_id,
                                               claims.generation + 1)
    try:
        session.update(actions=[Session.generation.set(claims.generation + 1),
                                Session.refresh_hash.set(new_hash), Session.refreshed_at.set(clock.now())],
                       condition=(Session.generation == claims.generation)
                       & Session.revoked_at.does_not_exist())
    except UpdateError as exc:
        if not db.condition_failed(exc):
            raise
        _revoke(session, "refresh-reuse")  # two refreshes raced with the same token
        note["outcome"] = "refresh-reuse"
        raise Unauthorized("this refresh token was already used; the session is revoked for "
                           "safety; log in again", code=REFRESH_TOKEN_REUSED) from None
    note["actor"] = _actor(member)
    return _answer(member, claims.session_id, new_token, session.expires_at)


def _active_member(tenant_id: str, member_id: str) -> Member | None:
    try:
        member = Member.get(tenant_id, member_id)
    except DoesNotExist:
        return None
    return member if member.status == "active" else None


def _revoke(session: Session, reason: str) -> None:
    session.update(actions=[Session.revoked_at.set(clock.now()), Session.revoked_reason.set(reason)])
    _cache.pop((session.tenant_id, session.session_key), None)


def change_own(identity: MemberIdentity, body: dict, note: dict) -> Member:
    """A member changes their own name and/or password (the current one is required; wrong
    guesses count toward the lockout). A new password ends the member's other sessions."""
    from chalicelib import validate as v
    from chalicelib.errors import Forbidden

    v.only_keys(body, {"name", "password", "current_password"})
    member = Member.get(identity.tenant_id, identity.member_id)
    actions: list[Action] = []
    if "name" in body:
        name = v.text(body, "name", max_len=100)
        actions.append(Member.name.set(name) if name else Member.name.remove())
    if "password" in body:
        new = passwords.check_rules(body.get("password"), member.email)
        current = body.get("current_password")
        if not isinstance(current, str) or not current:
            raise ValidationFailed("'current_password' is required to set a new password",
                                   field="current_password")
        valid = passwords.verify_password(current[:passwords.MAX_LENGTH + 1],
                                          member.password_hash, _cost())
        if _locked(member) or not valid:
            if not _locked(member):
                _failed(member, note)
                note["outcome"] = "wrong-current-password"
            raise Forbidden("the current password is wrong (repeated failures lock the account)",
                            code=WRONG_PASSWORD, field="current_password")
        actions.append(Member.password_hash.set(passwords.hash_password(new, _cost())))
    if actions:
        member.update(actions=actions)
    if "password" in body:
        for session in Session.query(identity.tenant_id,
                                     Session.session_key.startswith(identity.member_id + "#")):
            if session.revoked_at is None and session.session_key != session_key(
                    identity.member_id, identity.session_id):
                _revoke(session, "password-changed")
    forget_member(identity.tenant_id, identity.member_id)
    return member


def logout(identity: MemberIdentity) -> None:
    try:
        session = Session.get(identity.tenant_id, session_key(identity.member_id,
                                                              identity.session_id))
    except DoesNotExist:
        return
    _revoke(session, "logout")


def revoke_member(tenant_id: str, member_id: str, reason: str) -> int:
    revoked = 0
    for session in Session.query(tenant_id, Session.session_key.startswith(member_id + "#")):
        if session.revoked_at is None:
            _revoke(session, reason)
            revoked += 1
    return revoked


# --- every request -------------------------------------------------------------------------------

def authenticate(token: str) -> MemberIdentity:
    """The member behind a valid access token, or Unauthorized (``token-expired`` means: refresh)."""
    cfg = get_settings()
    claims = tokens.read_access(cfg.secret, token)
    if claims is None:
        raise Unauthorized("invalid access token", code=INVALID_TOKEN)
    if claims.expires <= time.time():
        raise Unauthorized("the access token has expired; refresh it (POST /v1/sessions/refresh)",
                           code=TOKEN_EXPIRED)
    key = (claims.tenant_id, session_key(claims.member_id, claims.session_id))
    hit = _cache.get(key)
    if hit and hit[0] > time.monotonic():
        identity = hit[1]
    else:
        identity = _lookup(claims)
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[key] = (time.monotonic() + cfg.session_cache_seconds, identity)
    if identity is None:
        raise Unauthorized("this session has ended; log in again", code=SESSION_ENDED)
    return identity


def _lookup(claims: Any) -> MemberIdentity | None:
    try:
        session = Session.get(claims.tenant_id, session_key(claims.member_id, claims.session_id))
    except DoesNotExist:
        return None
    if session.revoked_at is not None or session.expires_at <= clock.now():
        return None
    member = _active_member(claims.tenant_id, claims.member_id)
    if member is None:
        return None
    return MemberIdentity(claims.tenant_id, claims.member_id, claims.session_id, member.role,
                          member.email, member.name)
