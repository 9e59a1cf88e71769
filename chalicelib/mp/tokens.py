"""Mini-program tokens: ``mp1.<tenant>.<user>.<expires epoch>.<HMAC>``, signed with the secret.

Verification needs no storage read; a token names one user of one tenant and expires after
``YUTANG_MP_TOKEN_TTL_SECONDS`` (7 days by default).
"""
from __future__ import annotations

import time
from typing import Any

from chalicelib import signing
from chalicelib.error_codes import INVALID_MP_TOKEN, MP_TOKEN_EXPIRED
from chalicelib.errors import Unauthorized
from chalicelib.ids import is_id
from chalicelib.secret_store import app_secret
from chalicelib.settings import get_settings

PREFIX = "mp1"


def issue(tenant_id: str, user_id: str, now: float | None = None) -> tuple[str, int]:
    cfg = get_settings()
    expires = int((now if now is not None else time.time()) + cfg.mp_token_ttl_seconds)
    body = f"{PREFIX}.{tenant_id}.{user_id}.{expires}"
    return f"{body}.{signing.sign(app_secret(), 'mp-token|' + body, 24)}", expires


def verify(token: str, now: float | None = None) -> tuple[str, str]:
    """(tenant_id, user_id) of a valid token, else Unauthorized ``invalid-mp-token``."""
    parts = (token or "").split(".")
    if len(parts) != 5 or parts[0] != PREFIX or not is_id(parts[1]) or not is_id(parts[2]) \
            or not parts[3].isdigit():
        raise Unauthorized("a mini-program token is required (Authorization: Bearer mp1...)",
                           code=INVALID_MP_TOKEN)
    body = ".".join(parts[:4])
    if not signing.verify(app_secret(), "mp-token|" + body, parts[4], 24):
        raise Unauthorized("invalid mini-program token", code=INVALID_MP_TOKEN)
    if int(parts[3]) <= (now if now is not None else time.time()):
        raise Unauthorized("the mini-program token has expired; log in again",
                           code=MP_TOKEN_EXPIRED)
    return parts[1], parts[2]


def expiry(token: str) -> int:
    """The expiry (epoch seconds) of a token :func:`verify` accepted."""
    return int(token.split(".")[3])


def user_from_request(request: Any, tenant_id: str) -> str | None:
    """The user of a valid mp token in the request for this tenant, else None (public routes)."""
    from chalicelib.http import bearer

    token = bearer(request)
    if not token.startswith(PREFIX + "."):
        return None
    try:
        token_tenant, user_id = verify(token)
    except Unauthorized:
        return None
    return user_id if token_tenant == tenant_id else None
