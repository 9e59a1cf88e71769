"""Mini-program use cases: the tenant's app credentials, login, own profile, content behaviour."""
from __future__ import annotations

import re
import time
from datetime import datetime, timezone

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib import clock, vault
from chalicelib import validate as v
from chalicelib.audience import activity, users
from chalicelib.audience.identities import identify
from chalicelib.auth import service as auth
from chalicelib.content import service as content
from chalicelib.error_codes import MP_NOT_CONFIGURED
from chalicelib.errors import DomainError, ValidationFailed
from chalicelib.mp import tokens, wechat
from chalicelib.mp.models import MpApp
from chalicelib.settings import get_settings

# Interest weight a behaviour adds to each tag of the item (views count, but say little).
WEIGHTS = {"view": 0, "click": 1, "share": 2, "favorite": 3}
_APPID = re.compile(r"^wx[0-9a-f]{16}$")
_CODE = re.compile(r"^[\x21-\x7e]{1,128}$")
_app_cache: dict[str, tuple[float, tuple[str, str] | None]] = {}
SECRET = "mp.secret"  # the vault purpose


class MpNotConfigured(DomainError):
    status = 409
    code = MP_NOT_CONFIGURED


# ---- the tenant's mini-program ----------------------------------------------------------------

def set_app(tenant_id: str, body: dict) -> dict:
    v.only_keys(body, {"appid", "secret"})
    appid = v.text(body, "appid", required=True, max_len=18)
    if not _APPID.match(appid):
        raise ValidationFailed("'appid' must look like wx followed by 16 hex digits", field="appid")
    secret = v.text(body, "secret", required=True, max_len=64, min_len=8)
    MpApp(tenant_id=tenant_id, appid=appid, secret_sealed=vault.seal(tenant_id, SECRET, secret),
          updated_at=clock.now()).save()
    _app_cache.pop(tenant_id, None)
    return app_view(tenant_id)


def _app(tenant_id: str, max_age: float = 60.0) -> tuple[str, str] | None:
    hit = _app_cache.get(tenant_id)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    try:
        item = MpApp.get(tenant_id)
        value = (item.appid, _secret(item))
    except DoesNotExist:
        value = None
    _app_cache[tenant_id] = (time.monotonic() + max_age, value)
    return value


def _secret(item: MpApp) -> str:
    """The AppSecret in clear; a row stored before secrets were sealed is sealed now."""
    if item.secret_sealed:
        return vault.unseal(item.tenant_id, SECRET, item.secret_sealed)
    plain = item.secret or ""
    try:
        item.update(actions=[MpApp.secret_sealed.set(vault.seal(item.tenant_id, SECRET, plain)),
                             MpApp.secret.remove()], condition=MpApp.secret == plain)
    except UpdateError:
        return _secret(MpApp.get(item.tenant_id, consistent_read=True))  # changed meanwhile
    return plain


def credentials(tenant_id: str) -> tuple[str, str]:
    """The tenant's own app, else the deployment's default (YUTANG_WECHAT_APPID/SECRET)."""
    own = _app(tenant_id)
    if own:
        return own
    cfg = get_settings()
    if cfg.wechat_appid and cfg.wechat_secret:
        return cfg.wechat_appid, cfg.wechat_secret
    raise MpNotConfigured("this tenant has no mini-program configured (PUT /v1/mp/settings)")


def app_view(tenant_id: str) -> dict:
    own = _app(tenant_id, max_age=0)
    if own:
        return {"appid": own[0], "configured": True, "source": "tenant"}
    cfg = get_settings()
    default = bool(cfg.wechat_appid and cfg.wechat_secret)
    return {"appid": cfg.wechat_appid if default else None, "configured": default,
            "source": "default" if default else None}


# ---- login and the logged-in user -------------------------------------------------------------

def login(body: dict) -> dict:
    v.only_keys(body, {"tenant", "code"})
    tenant_id = v.text(body, "tenant", required=True, max_len=16)
    code = v.text(body, "code", required=True, max_len=128)
    if not _CODE.match(code):
        raise ValidationFailed("'code' must be the code from wx.login", field="code")
    auth.get_tenant(tenant_id)  # 404 tenant-not-found
    appid, secret = credentials(tenant_id)
    session = wechat.code2session(appid, secret, code)
    identities = {"openid": session.openid}
    if session.unionid:
        identities["unionid"] = session.unionid
    user, created = identify(tenant_id, identities)
    token, expires = tokens.issue(tenant_id, user["id"])
    return {"token": token, "user_id": user["id"], "created": created,
            "expires_at": datetime.fromtimestamp(expires, timezone.utc).isoformat()}


def me(tenant_id: str, user_id: str) -> dict:
    user = users.get_user(tenant_id, user_id)
    return {k: user[k] for k in ("id", "tags", "tag_details", "stage", "first_seen_at",
                                 "last_active_at", "created_at")}


def content_event(tenant_id: str, user_id: str, content_id: str, body: dict) -> None:
    """Count the behaviour on the item and on the user: 3 AWS calls (counter UpdateItem answering
    the item's tags, the user's TransactWriteItems, the ``user_event`` publish)."""
    v.only_keys(body, {"type"})
    kind = v.choice(body, "type", tuple(WEIGHTS), required=True)
    item = content.record_interaction(tenant_id, content_id, kind)
    weight = WEIGHTS[kind]
    interests = dict.fromkeys(item.tags or [], weight) if weight else {}
    activity.record_event(tenant_id, user_id, f"content_{kind}", properties={
        "content_id": content_id}, interests=interests)


def clear_caches() -> None:
    from chalicelib.mp import access

    _app_cache.clear()
    access.clear()
