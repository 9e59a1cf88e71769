"""Small, explicit input validators: each returns the clean value or raises ValidationFailed."""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, Literal, overload
from urllib.parse import urlparse

from chalicelib.errors import ValidationFailed

_MISSING = object()


def _get(data: dict, key: str, required: bool, default: Any) -> Any:
    if key not in data or data[key] is None:
        if required:
            raise ValidationFailed(f"'{key}' is required", field=key)
        return default
    return data[key]


def text(data: dict, key: str, *, required: bool = False, max_len: int = 200, default: Any = None,
         min_len: int = 1) -> Any:
    value = _get(data, key, required, _MISSING)
    if value is _MISSING:
        return default
    if not isinstance(value, str):
        raise ValidationFailed(f"'{key}' must be a string", field=key)
    value = value.strip()
    if len(value) < min_len:
        raise ValidationFailed(f"'{key}' must not be empty", field=key)
    if len(value) > max_len:
        raise ValidationFailed(f"'{key}' must be at most {max_len} characters", field=key)
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise ValidationFailed(f"'{key}' contains control characters", field=key)
    return value


def integer(data: dict, key: str, *, required: bool = False, lo: int | None = None,
            hi: int | None = None, default: Any = None) -> Any:
    value = _get(data, key, required, _MISSING)
    if value is _MISSING:
        return default
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,12}", value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"'{key}' must be an integer", field=key)
    if lo is not None and value < lo:
        raise ValidationFailed(f"'{key}' must be at least {lo}", field=key)
    if hi is not None and value > hi:
        raise ValidationFailed(f"'{key}' must be at most {hi}", field=key)
    return value


def boolean(data: dict, key: str, *, default: Any = None) -> Any:
    value = _get(data, key, False, _MISSING)
    if value is _MISSING:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"1", "true", "0", "false"}:
        return value.lower() in {"1", "true"}
    raise ValidationFailed(f"'{key}' must be true or false", field=key)


def choice(data: dict, key: str, options: Iterable[str], *, required: bool = False,
           default: Any = None) -> Any:
    options = tuple(options)
    value = _get(data, key, required, _MISSING)
    if value is _MISSING:
        return default
    if value not in options:
        raise ValidationFailed(f"'{key}' must be one of: {', '.join(options)}", field=key)
    return value


def timestamp(data: dict, key: str, *, required: bool = False, default: Any = None) -> Any:
    """An ISO 8601 time with an offset (or Z), returned as an aware UTC datetime."""
    value = _get(data, key, required, _MISSING)
    if value is _MISSING:
        return default
    return parse_time(value, key)


EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(3000, 1, 1, tzinfo=timezone.utc)  # far enough; leaves room for date arithmetic


def parse_time(value: Any, key: str) -> datetime:
    """The one parser of client times: ISO 8601 with an offset, between 1900 and 3000 in UTC (a
    time that overflows when moved to UTC, or later arithmetic on it, is refused, not a 500)."""
    if not isinstance(value, str):
        raise ValidationFailed(f"'{key}' must be an ISO 8601 time string", field=key)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(f"'{key}' is not an ISO 8601 time: {value[:40]!r}", field=key) from None
    if parsed.tzinfo is None:
        raise ValidationFailed(f"'{key}' must include a UTC offset (e.g. +08:00)", field=key)
    try:
        utc = parsed.astimezone(timezone.utc)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValidationFailed(f"'{key}' must be between {EARLIEST.year} and {LATEST.year} (UTC)",
                               field=key)
    return utc


def http_url(data: dict, key: str, *, required: bool = False, default: Any = None) -> Any:
    value = text(data, key, required=required, max_len=2048, default=_MISSING)
    if value is _MISSING:
        return default
    parsed = urlparse(value)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc or any(c.isspace() for c in value):
        raise ValidationFailed(f"'{key}' must be an absolute http(s) URL", field=key)
    return value


def webhook_url(data: dict, key: str) -> Any:
    """An http(s) URL Yutang will POST to: refused when saved if it is, or resolves to, a
    non-public address (each send checks it again and connects to the address it vetted)."""
    from chalicelib import fetch

    value = http_url(data, key)
    if value:
        try:
            fetch.check_saved_url(value)
        except fetch.FetchRefused as exc:
            raise ValidationFailed(exc.message, code=exc.code, field=key) from None
    return value


@overload
def object_(data: dict, key: str, *, required: Literal[True]) -> dict: ...
@overload
def object_(data: dict, key: str, *, required: bool = False) -> dict | None: ...
def object_(data: dict, key: str, *, required: bool = False) -> dict | None:
    """The object at ``key`` (None when absent, unless ``required``: then it raises)."""
    value = _get(data, key, required, None)
    if value is not None and not isinstance(value, dict):
        raise ValidationFailed(f"'{key}' must be an object", field=key)
    return value


@overload
def list_(data: dict, key: str, *, required: Literal[True], max_items: int = 100) -> list: ...
@overload
def list_(data: dict, key: str, *, required: bool = False, max_items: int = 100) -> list | None: ...
def list_(data: dict, key: str, *, required: bool = False, max_items: int = 100) -> list | None:
    """The array at ``key`` (None when absent, unless ``required``: then it raises)."""
    value = _get(data, key, required, None)
    if value is None:
        return None
    if not isinstance(value, list):
        raise ValidationFailed(f"'{key}' must be an array", field=key)
    if len(value) > max_items:
        raise ValidationFailed(f"'{key}' may have at most {max_items} items", field=key)
    return value


def only_keys(data: dict, allowed: Iterable[str], where: str = "body") -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationFailed(f"unknown field(s) in {where}: {', '.join(unknown)}", field=unknown[0])


def timezone_name(data: dict, key: str, *, default: Any = None) -> Any:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    value = text(data, key, max_len=64, default=_MISSING)
    if value is _MISSING:
        return default
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"'{key}' is not a known IANA timezone: {value!r}", field=key) from None
    return value


def page_limit(params: dict, default: int = 20, hi: int = 100) -> int:
    """The ``limit`` query parameter of a list endpoint (pages of 1..hi items)."""
    return integer(params, "limit", lo=1, hi=hi, default=default)
