"""企业微信 event callbacks on the request path: verified and decrypted, then queued.

``/wecom/v1/callback/{tenant_id}`` is authenticated by signature, not API key: :func:`verify_url`
answers the admin console's URL check; :func:`receive` checks ``msg_signature``, decrypts,
publishes one ``wecom_callback`` event and returns — 企业微信 expects an answer within 5 s and
retries otherwise, so nothing slow happens there. :mod:`chalicelib.wecom.consumers` handles the
event from the queue.
"""
from __future__ import annotations

import hashlib
import json

from chalicelib import clock
from chalicelib.error_codes import (
    INVALID_MESSAGE,
    INVALID_RECEIVER,
    INVALID_SIGNATURE,
    INVALID_XML,
    WECOM_NOT_CONFIGURED,
)
from chalicelib.errors import DomainError, NotFound, ValidationFailed
from chalicelib.ids import is_id
from chalicelib.wecom import crypto
from chalicelib.wecom.config import Config

TENANT_ID_LEN = 8


class InvalidSignature(DomainError):
    status = 403
    code = INVALID_SIGNATURE


def _config(tenant_id: str) -> Config:
    from chalicelib.wecom import integration

    if not is_id(tenant_id, TENANT_ID_LEN):
        raise NotFound("no such callback", code=WECOM_NOT_CONFIGURED)
    try:
        return integration.load(tenant_id)
    except integration.NotConfigured:
        raise NotFound("企业微信 is not configured for this tenant", code=WECOM_NOT_CONFIGURED) \
            from None


def _params(params: dict, *names: str) -> list[str]:
    values = []
    for name in names:
        value = params.get(name)
        if not value or len(value) > 4096:
            raise ValidationFailed(f"query parameter '{name}' is required", field=name)
        values.append(value)
    return values


def _crypto_error(exc: crypto.CryptoError) -> DomainError:
    if exc.code in (INVALID_SIGNATURE, INVALID_RECEIVER, INVALID_MESSAGE):
        return InvalidSignature(str(exc), code=exc.code)
    return ValidationFailed(str(exc), code=exc.code)


def verify_url(tenant_id: str, params: dict) -> str:
    """The decrypted ``echostr`` (the console's URL check), after verifying its signature."""
    config = _config(tenant_id)
    signature, timestamp, nonce, echostr = _params(params, "msg_signature", "timestamp", "nonce",
                                                   "echostr")
    try:
        crypto.verify_signature(config.token, timestamp, nonce, echostr, signature)
        return crypto.decrypt(config.encoding_aes_key, config.corp_id, echostr)
    except crypto.CryptoError as exc:
        raise _crypto_error(exc) from None


def event_id(message: dict) -> str:
    canonical = json.dumps(message, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:40]


def receive(tenant_id: str, params: dict, body: bytes) -> str:
    """Verify, decrypt and enqueue one callback; returns its event id."""
    from chalicelib import events

    config = _config(tenant_id)
    signature, timestamp, nonce = _params(params, "msg_signature", "timestamp", "nonce")
    try:
        encrypted = crypto.parse_xml(body).get("Encrypt")
        if not isinstance(encrypted, str) or not encrypted:
            raise crypto.CryptoError("the body has no <Encrypt> element", INVALID_XML)
        crypto.verify_signature(config.token, timestamp, nonce, encrypted, signature)
        message = crypto.parse_xml(crypto.decrypt(config.encoding_aes_key, config.corp_id, encrypted))
    except crypto.CryptoError as exc:
        from chalicelib.analytics import problems

        problems.record(tenant_id, "callback", f"a callback was refused: {exc}")
        raise _crypto_error(exc) from None
    eid = event_id(message)
    events.publish("wecom_callback", {"tenant_id": tenant_id, "event_id": eid, "message": message,
                                      "received_at": clock.now().isoformat()})
    return eid
