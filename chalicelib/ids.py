"""Identifiers: short, random, URL-safe and unambiguous (no 0/o, 1/l)."""
from __future__ import annotations

import secrets

ALPHABET = "23456789abcdefghijkmnpqrstuvwxyz"
# Lengths of ids that more than one package meets (the shared outbox lists campaign messages and
# fission reward notices: its ``campaign_id`` is one or the other).
CAMPAIGN_ID_LEN = 10
FISSION_TASK_ID_LEN = 8


def new_id(length: int = 10) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def is_id(value: str, length: int | None = None) -> bool:
    if not value or (length is not None and len(value) != length):
        return False
    return all(c in ALPHABET for c in value)


def new_token(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)


def is_outbox_source_id(value: str) -> bool:
    """A campaign id or a fission task id: the owners of outbox messages."""
    return is_id(value, CAMPAIGN_ID_LEN) or is_id(value, FISSION_TASK_ID_LEN)
