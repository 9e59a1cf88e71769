"""The tenant's stage thresholds (one item of the audience table), cached per container."""
from __future__ import annotations

import time

from pynamodb.exceptions import DoesNotExist

from chalicelib.audience import stages as stage_rules
from chalicelib.audience.models import AudienceItem as Item

_cache: dict[str, tuple[float, stage_rules.Thresholds]] = {}


def get_thresholds(tenant_id: str, max_age: float = 30.0) -> stage_rules.Thresholds:
    hit = _cache.get(tenant_id)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    try:
        stored = Item.get(tenant_id, Item.config_key()).thresholds or {}
        value = stage_rules.Thresholds(**stored)
    except DoesNotExist:
        value = stage_rules.Thresholds()
    _cache[tenant_id] = (time.monotonic() + max_age, value)
    return value


def set_thresholds(tenant_id: str, changes: dict) -> dict:
    value = stage_rules.Thresholds.from_input(changes, get_thresholds(tenant_id, max_age=0))
    Item(tenant_id=tenant_id, sk=Item.config_key(), thresholds=value.as_dict()).save()
    _cache.pop(tenant_id, None)
    return value.as_dict()


def clear_caches() -> None:
    _cache.clear()
