"""Due items: work that must happen at a time, found by the minute tick through a key range.

Keys are ``<epoch seconds, 10 digits>#<tenant>#<campaign>#<what>`` in one of a few shards, so the
tick reads ``key <= now`` per shard with a Query and deletes what it handled. Everything a due item
starts is idempotent downstream (deterministic run ids, dispatch pages, per-recipient batch rows),
so a tick that runs twice, or dies after acting and before deleting, sends nothing twice.
"""
from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import datetime

from chalicelib.campaigns.models import DUE_SHARDS, DueItem


def shard_of(what: str) -> str:
    return str(zlib.crc32(what.encode()) % DUE_SHARDS)


def key(at: datetime, tenant_id: str, campaign_id: str, what: str) -> str:
    return DueItem.build_key(int(at.timestamp()), tenant_id, campaign_id, what)


def item(at: datetime, tenant_id: str, campaign_id: str, kind: str, what: str,
         user_id: str | None = None, body: dict | None = None) -> DueItem:
    return DueItem(shard=shard_of(f"{tenant_id}#{campaign_id}#{what}"),
                   key=key(at, tenant_id, campaign_id, what), tenant_id=tenant_id,
                   campaign_id=campaign_id, kind=kind, user_id=user_id, body=body)


def ref(due: DueItem) -> str:
    """How a campaign remembers its pending fire: ``<shard>/<key>``."""
    return f"{due.shard}/{due.key}"


def from_ref(value: str) -> DueItem:
    shard, _, k = value.partition("/")
    return DueItem(shard=shard, key=k)


def due_now(now: datetime, limit: int) -> Iterator[DueItem]:
    bound = DueItem.upper_bound(int(now.timestamp()))
    for shard in range(DUE_SHARDS):
        yield from DueItem.query(str(shard), DueItem.key <= bound, limit=limit)
