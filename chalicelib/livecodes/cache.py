"""A live code's routing data, cached per container for a bounded time.

A scan needs the code's targets, windows and settings; at tens of thousands of scans per second
one item would be read far past its partition's 3,000 read units per second. Each container keeps
the code it read for ``livecode_cache_seconds`` (1 s by default, ``YUTANG_LIVECODE_CACHE_SECONDS``;
0 turns the cache off), read eventually consistent (half a read unit). An edit therefore reaches
every scan within that bound, and at once in the container that made it (every write through
``LiveCode`` drops the copy). Claims stay exact whatever the copy says: capacities are enforced by
the conditions on the counter items (:mod:`chalicelib.livecodes.counters`), not by this data.
A missing code is cached too (a flood of scans of a deleted code reads nothing more).
"""
from __future__ import annotations

import threading
import time

from pynamodb.exceptions import DoesNotExist

from chalicelib.error_codes import LIVECODE_NOT_FOUND
from chalicelib.errors import NotFound
from chalicelib.ids import is_id
from chalicelib.livecodes.models import WRITE_LISTENERS, LiveCode
from chalicelib.settings import get_settings

MAX_ENTRIES = 4096
CODE_ID_LEN = 8
_lock = threading.Lock()
_entries: dict[tuple[str, str], tuple[float, LiveCode | None]] = {}
_monotonic = time.monotonic  # tests move it


def code(tenant_id: str, code_id: str) -> LiveCode:
    """The code, at most ``livecode_cache_seconds`` old; NotFound when it does not exist. The
    instance is shared: callers read it and never change it."""
    if not is_id(code_id, CODE_ID_LEN):
        raise _missing()
    key = (tenant_id, code_id)
    hit = _entries.get(key)
    if hit is None or hit[0] <= _monotonic():
        hit = (_monotonic() + ttl(), _read(tenant_id, code_id))
        if ttl() > 0:
            _store(key, hit)
    if hit[1] is None:
        raise _missing()
    return hit[1]


def ttl() -> float:
    return max(0.0, float(get_settings().livecode_cache_seconds))


def forget(tenant_id: str, code_id: str) -> None:
    _entries.pop((tenant_id, code_id), None)


def clear() -> None:
    _entries.clear()


def _read(tenant_id: str, code_id: str) -> LiveCode | None:
    try:
        return LiveCode.get(tenant_id, code_id)  # eventually consistent: 0.5 RRU up to 4 KB
    except DoesNotExist:
        return None


def _store(key: tuple[str, str], entry: tuple[float, LiveCode | None]) -> None:
    with _lock:
        if len(_entries) >= MAX_ENTRIES:  # drop the oldest half (insertion order)
            for old in list(_entries)[: MAX_ENTRIES // 2]:
                _entries.pop(old, None)
        _entries[key] = entry


def _missing() -> NotFound:
    return NotFound("no such live code", code=LIVECODE_NOT_FOUND)


WRITE_LISTENERS.append(forget)
