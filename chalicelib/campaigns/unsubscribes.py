"""Unsubscribes: the users who asked for no campaign messages (read by senders and fission notices).

Unsubscribes are rare and must never be lost to a frequency-counter write, so they live apart, in
64 string-set buckets per tenant (``campaigns`` items, atomic ADD/DELETE): a batch reads the
buckets it needs in one BatchGetItem, cached per container for a few seconds.
"""
from __future__ import annotations

import time
import zlib
from collections.abc import Iterable

from chalicelib.campaigns import bulk
from chalicelib.campaigns.models import Campaign

UNSUB_BUCKETS = 64
UNSUB_CACHE_SECONDS = 5.0
_unsub_cache: dict[tuple[str, int], tuple[float, frozenset]] = {}


def bucket_of(user_id: str) -> int:
    return zlib.crc32(user_id.encode()) % UNSUB_BUCKETS


def set_unsubscribed(tenant_id: str, user_id: str, unsubscribed: bool) -> None:
    bucket = bucket_of(user_id)
    item = Campaign(tenant_id=tenant_id, sk=Campaign.unsub_key(bucket))
    attr = Campaign.unsubscribed
    item.update(actions=[attr.add({user_id}) if unsubscribed else attr.delete({user_id})])
    _unsub_cache.pop((tenant_id, bucket), None)


def unsubscribed(tenant_id: str, user_ids: Iterable[str], max_age: float = UNSUB_CACHE_SECONDS
                 ) -> set[str]:
    """Which of these users unsubscribed (one BatchGetItem for the uncached buckets)."""
    user_ids = list(user_ids)
    wanted = {bucket_of(u) for u in user_ids}
    now = time.monotonic()
    missing = [b for b in wanted if (_unsub_cache.get((tenant_id, b)) or (0,))[0] <= now]
    if missing:
        keys = [Campaign.key_dict(tenant_id, Campaign.unsub_key(b)) for b in missing]
        found: dict[int, frozenset[str]] = {b: frozenset() for b in missing}
        for item in bulk.batch_get(Campaign.table_name(), keys, ["sk", "unsubscribed"]):
            bucket = Campaign.unsub_bucket(item["sk"]["S"])
            found[bucket] = frozenset(item.get("unsubscribed", {}).get("SS", []))
        for b, members in found.items():
            _unsub_cache[(tenant_id, b)] = (now + max_age, members)
    return {u for u in user_ids if u in _unsub_cache[(tenant_id, bucket_of(u))][1]}


def forget() -> None:
    _unsub_cache.clear()
