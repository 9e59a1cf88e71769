"""The ``scene`` of a 小程序码 and the query of a URL Link/Scheme: what the mini-program needs to
find the live code or fission participant behind it (pure; no I/O).

WeChat allows at most 32 visible characters from ``0-9A-Za-z!#$&'()*+,/:;=?@-._~``. Ids here use a
lowercase alphabet, so an uppercase first letter names the kind:

- ``L`` + tenant(8) + code(8) = 17: a live code (the rest is its slug);
- ``P`` + tenant(8) + task(8) + participant(10) + the first 5 characters of the participant's
  ref nonce = 32: a fission participant. The nonce part makes a scene as hard to forge as a ref
  (a participant id alone is not secret: it can be derived from a known user id).

The mini-program calls ``GET /mp/v1/scene/{scene}`` (its own token) to resolve one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.ids import is_id

MAX_LEN = 32
ALLOWED = re.compile(r"^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}$")  # WeChat's rule for a scene
LIVECODE, PARTICIPANT = "L", "P"
TENANT_LEN = CODE_LEN = TASK_LEN = 8
PARTICIPANT_LEN = 10
NONCE_PART = 5


@dataclass(frozen=True)
class Scene:
    kind: str  # "livecode" | "participant"
    tenant_id: str
    code_id: str | None = None
    task_id: str | None = None
    participant_id: str | None = None
    nonce_part: str | None = None


def for_livecode(tenant_id: str, code_id: str) -> str:
    return f"{LIVECODE}{tenant_id}{code_id}"


def for_participant(tenant_id: str, task_id: str, participant_id: str, nonce: str) -> str:
    return f"{PARTICIPANT}{tenant_id}{task_id}{participant_id}{nonce[:NONCE_PART]}"


def parse(scene: str | None) -> Scene | None:
    """The scene's parts, or None for anything this module did not make."""
    if not scene or len(scene) > MAX_LEN or not is_id(scene[1:]):
        return None
    body, tenant = scene[1:], scene[1:1 + TENANT_LEN]
    if scene[0] == LIVECODE and len(body) == TENANT_LEN + CODE_LEN:
        return Scene("livecode", tenant, code_id=body[TENANT_LEN:])
    if scene[0] == PARTICIPANT and len(body) == TENANT_LEN + TASK_LEN + PARTICIPANT_LEN + NONCE_PART:
        rest = body[TENANT_LEN:]
        return Scene("participant", tenant, task_id=rest[:TASK_LEN],
                     participant_id=rest[TASK_LEN:TASK_LEN + PARTICIPANT_LEN],
                     nonce_part=rest[TASK_LEN + PARTICIPANT_LEN:])
    return None
