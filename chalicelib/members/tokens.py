"""Session and invite token formats (pure).

- Access token ``yts1.<tenant>.<member>.<session>.<expires epoch>.<mac>``: 15 minutes, HMAC-SHA256
  under a key derived (HKDF) from ``YUTANG_SECRET`` for this purpose only. The signature proves who
  and until when without a read; the middleware still checks the session record (cached a few
  seconds per container) so a logout or a disabled member stops it at once.
- Refresh token ``ytr1.<tenant>.<member>.<session>.<generation>.<nonce>.<mac>``: only the hash of
  the current generation's nonce is stored. Each refresh moves to the next generation; a genuine
  (correctly signed) token of an older generation is a replay, and revokes the session.
- Invite token ``yti1.<tenant>.<member>.<secret>``: 256 random bits, only the SHA-256 is stored.

API keys start ``yt_``, so the middleware tells the kinds apart by prefix.
"""
from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import NamedTuple

from chalicelib import signing
from chalicelib.ids import is_id, new_token

ACCESS, REFRESH, INVITE = "yts1", "ytr1", "yti1"
MEMBER_ID_LEN, SESSION_ID_LEN = 10, 12


class AccessClaims(NamedTuple):
    tenant_id: str
    member_id: str
    session_id: str
    expires: int


class RefreshClaims(NamedTuple):
    tenant_id: str
    member_id: str
    session_id: str
    generation: int
    nonce: str


@lru_cache(maxsize=8)
def _key(secret: str, purpose: str) -> bytes:
    return signing.derive_key(secret, f"yutang-{purpose}-token")


def issue_access(secret: str, tenant_id: str, member_id: str, session_id: str, expires: int) -> str:
    body = f"{ACCESS}.{tenant_id}.{member_id}.{session_id}.{expires}"
    return f"{body}.{signing.mac(_key(secret, 'access'), body)}"


def read_access(secret: str, token: str) -> AccessClaims | None:
    """The claims of a well-formed, correctly signed token (expiry not checked here), else None."""
    parts = (token or "").split(".")
    if len(parts) != 6 or parts[0] != ACCESS or len(token) > 300 or not parts[4].isdigit():
        return None
    if not (is_id(parts[1]) and is_id(parts[2], MEMBER_ID_LEN) and is_id(parts[3], SESSION_ID_LEN)):
        return None
    if not signing.mac_matches(_key(secret, "access"), ".".join(parts[:5]), parts[5]):
        return None
    return AccessClaims(parts[1], parts[2], parts[3], int(parts[4]))


def issue_refresh(secret: str, tenant_id: str, member_id: str, session_id: str,
                  generation: int) -> tuple[str, str]:
    """(token, hash of its nonce to store)."""
    nonce = new_token(24)
    body = f"{REFRESH}.{tenant_id}.{member_id}.{session_id}.{generation}.{nonce}"
    return f"{body}.{signing.mac(_key(secret, 'refresh'), body)}", digest(nonce)


def read_refresh(secret: str, token: str) -> RefreshClaims | None:
    parts = (token or "").split(".")
    if len(parts) != 7 or parts[0] != REFRESH or len(token) > 300 or not parts[4].isdigit():
        return None
    if not (is_id(parts[1]) and is_id(parts[2], MEMBER_ID_LEN) and is_id(parts[3], SESSION_ID_LEN)):
        return None
    if not signing.mac_matches(_key(secret, "refresh"), ".".join(parts[:6]), parts[6]):
        return None
    return RefreshClaims(parts[1], parts[2], parts[3], int(parts[4]), parts[5])


def issue_invite(tenant_id: str, member_id: str) -> tuple[str, str]:
    """(token, hash of its secret to store)."""
    secret = new_token(32)
    return f"{INVITE}.{tenant_id}.{member_id}.{secret}", digest(secret)


def read_invite(token: str) -> tuple[str, str, str] | None:
    """(tenant_id, member_id, secret) of a well-formed invite token, else None."""
    parts = (token or "").split(".", 3)
    if len(parts) != 4 or parts[0] != INVITE or len(token) > 200:
        return None
    if not (is_id(parts[1]) and is_id(parts[2], MEMBER_ID_LEN) and parts[3]):
        return None
    return parts[1], parts[2], parts[3]


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def digest_matches(secret: str, stored: str | None) -> bool:
    return stored is not None and hmac.compare_digest(digest(secret), stored)
