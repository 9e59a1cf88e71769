"""The tenant's stage thresholds (one item of the audience table), cached per container."""
from __future__ import annotations

import time

from pynamodb.exceptions import DoesNotExist

from chalicelib.audience import stages as stage_rules
from chalicelib.audience.models import AudienceItem as Item

_cache: dict[str, tuple[float, stage_rules.Thresholds]] = {}


MAX_AGE = 30.0


def get_thresholds(tenant_id: str, max_age: float = MAX_AGE) -> stage_rules.Thresholds:
    hit = cached(tenant_id)
    if hit is not None:
        return hit
    try:
        stored = Item.get(tenant_id, Item.config_key()).thresholds or {}
    except DoesNotExist:
        stored = None
    return remember(tenant_id, stored, max_age)


def cached(tenant_id: str) -> stage_rules.Thresholds | None:
    """The thresholds when this container read them less than ``MAX_AGE`` ago, else None."""
    hit = _cache.get(tenant_id)
    return hit[1] if hit and hit[0] > time.monotonic() else None


def remember(tenant_id: str, stored: dict | None, max_age: float = MAX_AGE) -> stage_rules.Thresholds:
    """Cache the thresholds of a ``CFG`` item read elsewhere (None: the tenant has none)."""
    value = stage_rules.Thresholds(**(stored or {}))
    _cache[tenant_id] = (time.monotonic() + max_age, value)
    return value


def set_thresholds(tenant_id: str, changes: dict) -> dict:
    value = stage_rules.Thresholds.from_input(changes, get_thresholds(tenant_id, max_age=0))
    Item(tenant_id=tenant_id, sk=Item.config_key(), thresholds=value.as_dict()).save()
    _cache.pop(tenant_id, None)
    return value.as_dict()


def clear_caches() -> None:
    _cache.clear()
