"""Opaque, tamper-proof list cursors: base64url JSON plus an HMAC bound to the tenant and query.

A cursor from one tenant or one query cannot be replayed against another; an edited cursor is
refused with ``invalid-cursor`` (400).
"""
from __future__ import annotations

import base64
import binascii
import json

from chalicelib import signing
from chalicelib.errors import ValidationFailed


def encode(secret: str, tenant_id: str, scope: str, position: dict) -> str:
    raw = base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode())
    body = raw.decode().rstrip("=")
    return f"{body}.{signing.sign(secret, _message(tenant_id, scope, body))}"


def decode(secret: str, tenant_id: str, scope: str, cursor: str | None) -> dict | None:
    if cursor is None or cursor == "":
        return None
    body, _, sig = cursor.partition(".")
    if not body or not signing.verify(secret, _message(tenant_id, scope, body), sig):
        raise invalid()
    try:
        value = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        raise invalid() from None
    if not isinstance(value, dict):
        raise invalid()
    return value


def _message(tenant_id: str, scope: str, body: str) -> str:
    return f"cursor|{tenant_id}|{scope}|{body}"


def invalid() -> ValidationFailed:
    return ValidationFailed("the cursor is invalid, or belongs to another query", code="invalid-cursor",
                            field="cursor")
