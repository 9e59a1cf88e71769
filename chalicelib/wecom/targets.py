"""企业微信 options of a live code target (pure): parsing, and the ``state`` carried by ways.

A ``staff`` target with ``wecom_user_ids`` is backed by a 「联系我」 contact way; a ``group`` target
with ``wecom_chat_ids`` by a group join way. Their QR image comes from 企业微信, so such targets
take no ``image``. The ``state`` (≤ 30 characters) names the live code and the target:
``"yt" + code_id (8) + target_id (8)`` — the callback's tenant comes from its URL.
"""
from __future__ import annotations

import re
from typing import Any

from chalicelib import validate as v
from chalicelib.errors import ValidationFailed
from chalicelib.ids import is_id

FIELDS = frozenset({"wecom_user_ids", "wecom_chat_ids", "skip_verify", "auto_create_room",
                    "room_base_name", "room_base_id"})
STAFF_OPTIONS = frozenset({"user_ids", "skip_verify"})
GROUP_OPTIONS = frozenset({"chat_ids", "auto_create_room", "room_base_name", "room_base_id"})
MAX_USERS = 100
MAX_CHATS = 5
STATE_PREFIX = "yt"
ID_LEN = 8
GROUP_SIZE = 200  # a 企业微信 customer group admits 200 members (the default capacity per chat)
_USERID = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_CHATID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _ids(body: dict, key: str, pattern: re.Pattern, max_items: int) -> list[str]:
    raw = v.list_(body, key, max_items=max_items)
    if not raw:
        raise ValidationFailed(f"'{key}' must list 1 to {max_items} ids", field=key)
    if not all(isinstance(i, str) and pattern.match(i) for i in raw):
        raise ValidationFailed(f"'{key}' must hold ids of letters, digits and _ . @ -", field=key)
    if len(set(raw)) != len(raw):
        raise ValidationFailed(f"'{key}' lists an id twice", field=key)
    return list(raw)


def parse(body: dict) -> dict[str, Any]:
    """The 企业微信 options present in a target body, validated on their own."""
    spec: dict[str, Any] = {}
    if "wecom_user_ids" in body:
        spec["user_ids"] = _ids(body, "wecom_user_ids", _USERID, MAX_USERS)
    if "wecom_chat_ids" in body:
        spec["chat_ids"] = _ids(body, "wecom_chat_ids", _CHATID, MAX_CHATS)
    for key in ("skip_verify", "auto_create_room"):
        if key in body:
            spec[key] = v.boolean(body, key, default=key == "skip_verify")
    if "room_base_name" in body:
        spec["room_base_name"] = v.text(body, "room_base_name", max_len=40)
    if "room_base_id" in body:
        spec["room_base_id"] = v.integer(body, "room_base_id", lo=1, hi=10_000_000)
    return {k: val for k, val in spec.items() if val is not None}


def check_kind(spec: dict, kind: str, *, creating: bool, has_image: bool) -> str:
    """Which way backs the target ("contact" or "join"); refuses options of the wrong kind."""
    allowed = {"staff": STAFF_OPTIONS, "group": GROUP_OPTIONS}.get(kind, frozenset())
    wrong = sorted(set(spec) - allowed)
    if wrong:
        field = "wecom_" + wrong[0] if wrong[0] in ("user_ids", "chat_ids") else wrong[0]
        raise ValidationFailed(f"'{field}' does not apply to a {kind} target", field=field)
    ids_key = "user_ids" if kind == "staff" else "chat_ids"
    if creating and ids_key not in spec:
        field = "wecom_" + ids_key
        raise ValidationFailed(f"企业微信 options need '{field}'", field=field)
    if has_image:
        raise ValidationFailed("a 企业微信-backed target shows 企业微信's QR code; do not send 'image'",
                               field="image")
    return "contact" if kind == "staff" else "join"


def state_for(code_id: str, target_id: str) -> str:
    return f"{STATE_PREFIX}{code_id}{target_id}"


def parse_state(state: str | None) -> tuple[str, str] | None:
    """(code_id, target_id) from a state we issued, else None (states set by others are ignored)."""
    if not state or len(state) != len(STATE_PREFIX) + 2 * ID_LEN or not state.startswith(STATE_PREFIX):
        return None
    code_id, target_id = state[2:2 + ID_LEN], state[2 + ID_LEN:]
    return (code_id, target_id) if is_id(code_id, ID_LEN) and is_id(target_id, ID_LEN) else None
