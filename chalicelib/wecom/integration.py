"""Per-tenant 企业微信 settings: corp id, app secret, callback Token and EncodingAESKey.

The secret, Token and AES key are sealed (:mod:`chalicelib.vault`) before they are stored,
never returned by the API and never logged. :func:`load` opens them for the client and callbacks,
cached per container for a short time (:func:`forget` drops the cache after a change).
"""
from __future__ import annotations

import hashlib
import logging
import re
import time
from datetime import datetime, timezone

from pynamodb.exceptions import DoesNotExist

from chalicelib import clock, vault
from chalicelib import validate as v
from chalicelib.error_codes import INVALID_AES_KEY, WECOM_NOT_CONFIGURED
from chalicelib.errors import Conflict, ValidationFailed
from chalicelib.settings import get_settings
from chalicelib.wecom.config import Config
from chalicelib.wecom.crypto import AES_KEY_RE, CryptoError, aes_key
from chalicelib.wecom.models import WecomIntegration, WecomToken

log = logging.getLogger("yutang.wecom")

FIELDS = {"corp_id", "secret", "agent_id", "token", "encoding_aes_key", "verify"}
CORP_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TOKEN_RE = re.compile(r"^[A-Za-z0-9]{1,32}$")
CACHE_SECONDS = 30.0
_cache: dict[str, tuple[float, Config]] = {}


class NotConfigured(Conflict):
    code = WECOM_NOT_CONFIGURED


def callback_url(tenant_id: str) -> str:
    return f"{get_settings().public_url}/wecom/v1/callback/{tenant_id}"


def fingerprint(corp_id: str, secret: str) -> str:
    return hashlib.sha256(f"{corp_id}\n{secret}".encode()).hexdigest()[:16]


def parse(body: dict) -> dict:
    v.only_keys(body, FIELDS)
    corp_id = v.text(body, "corp_id", required=True, max_len=64)
    if not CORP_ID_RE.match(corp_id):
        raise ValidationFailed("'corp_id' must be letters, digits, '-' or '_'", field="corp_id")
    token = v.text(body, "token", required=True, max_len=32)
    if not TOKEN_RE.match(token):
        raise ValidationFailed("'token' must be 1-32 letters or digits (the callback Token)",
                               field="token")
    key = v.text(body, "encoding_aes_key", required=True, max_len=64)
    try:
        if not AES_KEY_RE.match(key):
            raise CryptoError("not 43 base64 characters", INVALID_AES_KEY)
        aes_key(key)
    except CryptoError:
        raise ValidationFailed("'encoding_aes_key' must be the 43-character base64 EncodingAESKey",
                               field="encoding_aes_key") from None
    return {"corp_id": corp_id, "secret": v.text(body, "secret", required=True, max_len=128),
            "token": token, "encoding_aes_key": key,
            "agent_id": v.integer(body, "agent_id", lo=0, hi=2**31 - 1),
            "verify": v.boolean(body, "verify", default=True)}


def put(tenant_id: str, body: dict, now: datetime | None = None) -> dict:
    """Validate, optionally check the credentials with ``gettoken``, then store (sealed)."""
    from chalicelib.wecom import client

    now = now or clock.now()
    values = parse(body)
    fp = fingerprint(values["corp_id"], values["secret"])
    if values["verify"]:
        client.check_credentials(values["corp_id"], values["secret"])
    try:
        created_at = WecomIntegration.get(tenant_id, consistent_read=True).created_at
    except DoesNotExist:
        created_at = now
    item = WecomIntegration(
        tenant_id=tenant_id, corp_id=values["corp_id"], agent_id=values["agent_id"],
        secret_sealed=vault.seal(tenant_id, "wecom.secret", values["secret"]),
        token_sealed=vault.seal(tenant_id, "wecom.token", values["token"]),
        aes_key_sealed=vault.seal(tenant_id, "wecom.aes_key", values["encoding_aes_key"]),
        fingerprint=fp, created_at=created_at, updated_at=now)
    item.save()
    forget(tenant_id)
    return view(item)


def view(item: WecomIntegration | None, tenant_id: str | None = None) -> dict:
    if item is None:
        return {"configured": False, "callback_url": callback_url(tenant_id or "")}
    return {"configured": True, "corp_id": item.corp_id,
            "agent_id": None if item.agent_id is None else int(item.agent_id),
            "secret_set": True, "token_set": True, "encoding_aes_key_set": True,
            "callback_url": callback_url(item.tenant_id),
            "created_at": item.created_at.isoformat(), "updated_at": item.updated_at.isoformat()}


def get(tenant_id: str) -> dict:
    try:
        return view(WecomIntegration.get(tenant_id, consistent_read=True))
    except DoesNotExist:
        return view(None, tenant_id)


def delete(tenant_id: str) -> None:
    try:
        WecomIntegration.get(tenant_id, consistent_read=True).delete()
    except DoesNotExist:
        raise NotConfigured("企业微信 is not configured for this tenant", status=404) from None
    try:
        WecomToken.get(tenant_id).delete()
    except DoesNotExist:
        pass
    forget(tenant_id)


def load(tenant_id: str) -> Config:
    """The tenant's opened settings (what :mod:`chalicelib.wecom.client` takes), or NotConfigured."""
    hit = _cache.get(tenant_id)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    try:
        item = WecomIntegration.get(tenant_id)
    except DoesNotExist:
        raise NotConfigured("企业微信 is not configured for this tenant: "
                            "PUT /v1/integrations/wecom first") from None
    config = Config(tenant_id=tenant_id, corp_id=item.corp_id,
                    secret=vault.unseal(tenant_id, "wecom.secret", item.secret_sealed),
                    token=vault.unseal(tenant_id, "wecom.token", item.token_sealed),
                    encoding_aes_key=vault.unseal(tenant_id, "wecom.aes_key", item.aes_key_sealed),
                    agent_id=None if item.agent_id is None else int(item.agent_id),
                    fingerprint=item.fingerprint)
    _cache[tenant_id] = (time.monotonic() + CACHE_SECONDS, config)
    return config


def forget(tenant_id: str | None = None) -> None:
    from chalicelib.wecom import client

    if tenant_id is None:
        _cache.clear()
    else:
        _cache.pop(tenant_id, None)
    client.forget_tokens(tenant_id)


# ---- health -------------------------------------------------------------------------------------

CALLBACK_TOUCH_SECONDS = 60.0
_touched: dict[str, float] = {}


def touch_callback(tenant_id: str, now: datetime | None = None) -> None:
    """Note that a verified callback arrived (for the health view). At most one UpdateItem a minute
    per tenant and container; never raises (the callback itself matters more)."""
    mono = time.monotonic()
    if mono - _touched.get(tenant_id, -CALLBACK_TOUCH_SECONDS) < CALLBACK_TOUCH_SECONDS:
        return
    _touched[tenant_id] = mono
    try:
        WecomIntegration(tenant_id=tenant_id).update(
            actions=[WecomIntegration.last_callback_at.set(now or clock.now())],
            condition=WecomIntegration.tenant_id.exists())
    except Exception:  # noqa: BLE001 - a missing item (settings removed) or a throttle: skip
        log.info("could not note the last 企业微信 callback for tenant %s", tenant_id)


def health(tenant_id: str, now: datetime | None = None) -> dict:
    """What the console shows next to the settings: whether the cached access token is usable (it
    is fetched on first use and refreshed before it expires) and when a callback last came in.
    Two GetItems; no call to 企业微信."""
    now = now or clock.now()
    try:
        item = WecomIntegration.get(tenant_id, consistent_read=True)
    except DoesNotExist:
        return {"configured": False, "token": {"status": "none", "expires_at": None},
                "last_callback_at": None}
    try:
        stored = WecomToken.get(tenant_id)
    except DoesNotExist:
        stored = None
    if stored is None or stored.fingerprint != item.fingerprint:
        token = {"status": "none", "expires_at": None}
    else:
        expires = datetime.fromtimestamp(int(stored.expires_at), timezone.utc)
        token = {"status": "valid" if expires > now else "expired", "expires_at": expires.isoformat()}
    return {"configured": True, "token": token,
            "last_callback_at": item.last_callback_at.isoformat() if item.last_callback_at else None}
