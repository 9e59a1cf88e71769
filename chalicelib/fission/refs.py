"""Referral refs and participant keys: pure, parsed without a database read.

``ref`` (in the invite URL, seen by everyone who scans the poster) =
tenant(8) + task(8) + participant(10) + nonce(8). ``key`` (private to the participant: their
progress page and poster) = tenant + task + participant + secret(16). Nonce and secret are random
and stored on the participant, so neither can be forged or derived from the other, and rotating
``YUTANG_SECRET`` never breaks a printed poster.
"""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.ids import is_id, new_id

TENANT_LEN = TASK_LEN = 8
PARTICIPANT_LEN = 10
NONCE_LEN = 8
SECRET_LEN = 16
_HEAD = TENANT_LEN + TASK_LEN + PARTICIPANT_LEN


@dataclass(frozen=True)
class Parsed:
    tenant_id: str
    task_id: str
    participant_id: str
    token: str  # the nonce of a ref, the secret of a key


def new_nonce() -> str:
    return new_id(NONCE_LEN)


def new_secret() -> str:
    return new_id(SECRET_LEN)


def make(tenant_id: str, task_id: str, participant_id: str, token: str) -> str:
    return f"{tenant_id}{task_id}{participant_id}{token}"


def parse(value: str | None, token_len: int) -> Parsed | None:
    if not value or len(value) != _HEAD + token_len or not is_id(value):
        return None
    return Parsed(value[:TENANT_LEN], value[TENANT_LEN:TENANT_LEN + TASK_LEN],
                  value[TENANT_LEN + TASK_LEN:_HEAD], value[_HEAD:])


def parse_ref(value: str | None) -> Parsed | None:
    return parse(value, NONCE_LEN)


def parse_key(value: str | None) -> Parsed | None:
    return parse(value, SECRET_LEN)
