"""The rules of an import's rows: a users row becomes a :class:`~chalicelib.audience.bulk.NewUser`,
an events row a past event, or a :class:`RowError` naming the field and a stable code.

Columns (CSV header; JSON Lines keys):
- users: ``openid, unionid, external_userid, brand_user_id`` (at least one), ``tags`` (comma-
  separated), optional ``first_seen_at, last_active_at, last_paid_at`` (ISO 8601 with offset).
  Other columns (an export's ``id``, ``stage``, ...) are ignored, so a users export re-imports.
- events: ``user_id`` or one identity column, ``type``, ``at`` (required: it keys the event),
  optional ``properties`` (a JSON object).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from chalicelib import validate as v
from chalicelib.audience import bulk
from chalicelib.audience.rules import IDENTITY_KINDS
from chalicelib.errors import DomainError, ValidationFailed
from chalicelib.portability import formats

MAX_PROPERTIES_BYTES = 4096
_TIME_COLUMNS = ("first_seen_at", "last_active_at", "last_paid_at")


class RowError(Exception):
    def __init__(self, field: str | None, code: str, message: str) -> None:
        super().__init__(message)
        self.field, self.code, self.message = field, code, message

    @classmethod
    def of(cls, exc: DomainError, field: str | None = None) -> "RowError":
        name = (exc.field or field or "").removeprefix("identities.") or None
        return cls(name, exc.code, exc.message)


def header_problem(kind: str, header: list[str]) -> str | None:
    """Why a CSV header cannot hold the kind's rows (the whole file fails), or None."""
    known = set(header)
    if kind == "users" and not known & set(IDENTITY_KINDS):
        return f"the CSV header needs an identity column: {', '.join(IDENTITY_KINDS)}"
    if kind == "events" and not ({"type", "at"} <= known and known & {"user_id", *IDENTITY_KINDS}):
        return "the CSV header needs 'type', 'at' and 'user_id' or an identity column"
    return None


def _time(row: dict, key: str, now: datetime) -> datetime | None:
    value = row.get(key)
    if value in (None, ""):
        return None
    try:
        at = v.parse_time(value, key)
    except ValidationFailed as exc:
        raise RowError(key, "invalid-time", exc.message) from None
    if at > now + timedelta(minutes=5):
        raise RowError(key, "time-in-future", f"'{key}' must not be in the future")
    return at


def _identities(row: dict) -> dict[str, str]:
    from chalicelib.audience.rules import parse_identities

    raw = dict(row.get("identities") or {}) if isinstance(row.get("identities"), dict) else {}
    raw.update({k: row[k] for k in IDENTITY_KINDS if row.get(k) not in (None, "")})
    try:
        return parse_identities(raw)
    except ValidationFailed as exc:
        raise RowError.of(exc) from None


def parse_user(row: dict, now: datetime) -> bulk.NewUser:
    from chalicelib import tags as tagrules

    identities = _identities(row)
    if not identities:
        raise RowError("identities", "missing-identity",
                       f"a row needs at least one of: {', '.join(IDENTITY_KINDS)}")
    try:
        tags = tagrules.normalize_all(formats.split_list(row.get("tags")), "tags")
    except (ValidationFailed, TypeError) as exc:
        raise RowError("tags", getattr(exc, "code", "invalid-tag"), str(exc)) from None
    times = {k: _time(row, k, now) for k in _TIME_COLUMNS}
    return bulk.NewUser(identities, tags, **times)


def parse_event(row: dict, now: datetime) -> dict:
    from chalicelib.audience.rules import check_event_type

    user_id = row.get("user_id")
    identities = _identities(row)
    if bool(user_id) == bool(identities) or len(identities) > 1:
        raise RowError("user_id", "missing-user",
                       "a row needs either 'user_id' or exactly one identity column")
    try:
        event_type = check_event_type(row.get("type"))
    except ValidationFailed as exc:
        raise RowError.of(exc, "type") from None
    at = _time(row, "at", now)
    if at is None:
        raise RowError("at", "missing-time", "'at' is required (it identifies the event)")
    return {"user_id": user_id, "identities": identities, "type": event_type, "at": at,
            "properties": _properties(row.get("properties"))}


def _properties(props: object) -> dict:
    props = props or {}
    if isinstance(props, str):
        try:
            props = json.loads(props)
        except ValueError:
            raise RowError("properties", "invalid-json", "'properties' must be a JSON object") \
                from None
    if not isinstance(props, dict):
        raise RowError("properties", "invalid-json", "'properties' must be a JSON object")
    if len(json.dumps(props, ensure_ascii=False).encode()) > MAX_PROPERTIES_BYTES:
        raise RowError("properties", "too-large", "'properties' is at most 4 KB of JSON")
    return props
