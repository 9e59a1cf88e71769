"""API key format and hashing (pure).

A key reads ``yt_<tenant_id>_<key_id>_<secret>``: the tenant and key id say which item to read,
the secret is checked against its SHA-256 in constant time. Secrets carry 256 bits of entropy, so a
fast hash is enough (no password stretching needed).
"""
from __future__ import annotations

import hashlib
import hmac
from typing import NamedTuple

from chalicelib.ids import ALPHABET, new_id, new_token

TENANT_ID_LEN = 8
KEY_ID_LEN = 8
PREFIX = "yt_"


class ParsedKey(NamedTuple):
    tenant_id: str
    key_id: str
    secret: str


def make_key(tenant_id: str) -> tuple[str, str, str]:
    """Returns (key_id, full api key, secret hash)."""
    key_id = new_id(KEY_ID_LEN)
    secret = new_token(32)
    return key_id, f"{PREFIX}{tenant_id}_{key_id}_{secret}", hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_key(value: str) -> ParsedKey | None:
    if not value.startswith(PREFIX) or len(value) > 200:
        return None
    rest = value[len(PREFIX):]
    tenant_id, key_id = rest[:TENANT_ID_LEN], rest[TENANT_ID_LEN + 1:TENANT_ID_LEN + 1 + KEY_ID_LEN]
    sep1, sep2 = rest[TENANT_ID_LEN:TENANT_ID_LEN + 1], rest[TENANT_ID_LEN + 1 + KEY_ID_LEN:][:1]
    secret = rest[TENANT_ID_LEN + KEY_ID_LEN + 2:]
    if sep1 != "_" or sep2 != "_" or not secret:
        return None
    if not all(c in ALPHABET for c in tenant_id + key_id):
        return None
    return ParsedKey(tenant_id, key_id, secret)


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
