"""Audience input rules (pure): identity kinds and values, event types, the channel tag.

Imported by schedules, imports and 企业微信 callbacks that only need to check a value, so it
imports nothing that touches storage.
"""
from __future__ import annotations

import re
from typing import Any

from chalicelib import tags as tagrules
from chalicelib.error_codes import INVALID_EVENT_TYPE, INVALID_IDENTITY
from chalicelib.errors import ValidationFailed

IDENTITY_KINDS = ("openid", "unionid", "external_userid", "brand_user_id")
TAG_SOURCES = ("manual", "channel", "interest")
USER_ID_LEN = 12
_IDENTITY_VALUE = re.compile(r"^[\x21-\x7e]{1,128}$")
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_.:-]{0,47}$")


def parse_identities(data: Any, field: str = "identities") -> dict[str, str]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationFailed(f"'{field}' must be an object", field=field)
    unknown = sorted(set(data) - set(IDENTITY_KINDS))
    if unknown:
        raise ValidationFailed(f"unknown identity kind {unknown[0]!r}; one of: "
                               f"{', '.join(IDENTITY_KINDS)}", code=INVALID_IDENTITY, field=field)
    clean = {}
    for kind, value in data.items():
        if value is None:
            continue
        if not isinstance(value, str) or not _IDENTITY_VALUE.match(value):
            raise ValidationFailed(f"identity '{kind}' must be 1-128 printable ASCII characters",
                                   code=INVALID_IDENTITY, field=f"{field}.{kind}")
        clean[kind] = value
    return clean


def check_identity_kind(kind: str) -> str:
    if kind not in IDENTITY_KINDS:
        raise ValidationFailed(f"unknown identity kind {kind!r}", code=INVALID_IDENTITY,
                               field="kind")
    return kind


def check_event_type(value: Any) -> str:
    if not isinstance(value, str) or not _EVENT_TYPE.match(value):
        raise ValidationFailed("'type' must be 1-48 lower-case letters, digits or _ . : - "
                               "(e.g. order_paid)", code=INVALID_EVENT_TYPE, field="type")
    return value


def channel_tag(channel: str) -> str:
    """The tag a live code's channel gives its scanners: ``channel:<channel>``."""
    cleaned = re.sub(r"[,#\s]+", "-", channel or "").strip("-") or "unknown"
    return tagrules.normalize(("channel:" + cleaned)[:tagrules.MAX_TAG_LEN])


# properties of a domain event repeated flat on its events-queue message (consumers read them)
FLAT_FIELDS = ("staff", "channel", "code_id", "target_id", "state", "removed_by", "chat_id",
               "campaign_id", "run_id", "external_userid")
