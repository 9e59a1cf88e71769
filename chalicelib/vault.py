"""Secrets at rest — 企业微信 credentials and tokens, the mini-program AppSecret, the tenant's
webhook secret: AES-256-GCM, bound to the tenant and the purpose (AAD).

The key is HKDF-SHA256 of ``YUTANG_DATA_KEY`` (or, when unset, ``YUTANG_SECRET``) so a dump of the
table alone reveals nothing. On AWS this module is the swap point for KMS (``kms.encrypt`` with an
encryption context of tenant and purpose) or Secrets Manager: callers only use :func:`seal` and
:func:`unseal`. Sealed values are never returned by the API and never logged.
"""
from __future__ import annotations

import base64
import os
from functools import lru_cache

from chalicelib import secret_store

VERSION = "v1"


class SealError(ValueError):
    pass


@lru_cache(maxsize=4)
def _key(material: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"yutang-integration-secrets",
                info=b"v1").derive(material.encode())


def _current_key() -> bytes:
    return _key(secret_store.data_key() or secret_store.app_secret())


def _aad(tenant_id: str, purpose: str) -> bytes:
    return f"{tenant_id}|{purpose}".encode()


def seal(tenant_id: str, purpose: str, plaintext: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    sealed = AESGCM(_current_key()).encrypt(nonce, plaintext.encode(), _aad(tenant_id, purpose))
    return f"{VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def is_sealed(value: str | None) -> bool:
    return value is not None and value.startswith(f"{VERSION}:")


def unseal(tenant_id: str, purpose: str, value: str) -> str:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    version, _, payload = (value or "").partition(":")
    if version != VERSION:
        raise SealError("unknown sealed value format")
    try:
        raw = base64.urlsafe_b64decode(payload.encode())
        return AESGCM(_current_key()).decrypt(raw[:12], raw[12:], _aad(tenant_id, purpose)).decode()
    except (InvalidTag, ValueError):
        raise SealError("the sealed value does not open with this key (YUTANG_DATA_KEY changed?)") \
            from None
