"""Identifiers: short, random, URL-safe and unambiguous (no 0/o, 1/l)."""
from __future__ import annotations

import secrets

ALPHABET = "23456789abcdefghijkmnpqrstuvwxyz"


def new_id(length: int = 10) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def is_id(value: str, length: int | None = None) -> bool:
    if not value or (length is not None and len(value) != length):
        return False
    return all(c in ALPHABET for c in value)


def new_token(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)
