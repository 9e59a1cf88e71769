"""The live code table and its claim counters.

One item per live code holds its targets (a list of maps, ≤ 50): the routing data a scan reads
(cached per container, :mod:`chalicelib.livecodes.cache`). A target's ``assigned`` in that item is
its *base* count (claims made before the counters existed, or a count set by the operator or by
企业微信's member count); visitors placed since live in small counter items of their own
(:class:`ClaimCounter`, one or more shards per target), whose conditional UpdateItems are where
capacity and daily capacity are enforced (:mod:`chalicelib.livecodes.counters`).

Access patterns:
- GetItem (tenant_id, code_id): API reads and every scan (the slug carries both ids).
- Query tenant_id: list a tenant's codes (newest first by id order is not guaranteed; sorted in app).
- Query GSI ``due-index`` (due_pk = "due", due_at <= now): codes with a target expiring within 24 h
  whose operator has not been warned yet; the scheduler tick reads it.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.db import BaseModel

MAX_TARGETS = 50
DUE = "due"  # the one partition of the due index
# Called with (tenant_id, code_id) after this container wrote a live code (the routing-data cache
# drops its copy, so an edit shows at once in the container that made it).
WRITE_LISTENERS: list[Callable[[str, str], None]] = []


class TargetMap(MapAttribute):
    id = UnicodeAttribute()
    kind = UnicodeAttribute()
    name = UnicodeAttribute()
    image_key = UnicodeAttribute(null=True)
    url = UnicodeAttribute(null=True)
    capacity = NumberAttribute(null=True)
    assigned = NumberAttribute(default=0)
    expires_at = UTCDateTimeAttribute(null=True)
    weight = NumberAttribute(default=1)
    enabled = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute()
    extra = JSONAttribute(null=True)  # integration data (e.g. 企业微信 config_id) kept with the target
    store = JSONAttribute(null=True)  # a store target: {lat, lng, radius_m, region?} (rules_stores)
    daily_capacity = NumberAttribute(null=True)  # visitors per day (the code's timezone)
    backup = BooleanAttribute(null=True)  # only routed to when no primary target has room
    shards = NumberAttribute(null=True)  # counter shards ever made (None: not yet, counted as 1)


class DueIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "due-index"
        projection = AllProjection()

    due_pk = UnicodeAttribute(hash_key=True)
    due_at = NumberAttribute(range_key=True)


class LiveCode(BaseModel):
    class Meta:
        table_name = "livecodes"

    tenant_id = UnicodeAttribute(hash_key=True)
    code_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()  # internal (operators)
    title = UnicodeAttribute(null=True)  # public (the landing page)
    channel = UnicodeAttribute()
    strategy = UnicodeAttribute(default="fill")
    targets = ListAttribute(of=TargetMap, default=list)
    fallback = TargetMap(null=True)
    windows = JSONAttribute(null=True)
    timezone = UnicodeAttribute(default="Asia/Shanghai")
    enabled = BooleanAttribute(default=True)
    warn_threshold = NumberAttribute(default=20)
    logo_key = UnicodeAttribute(null=True)
    welcome = JSONAttribute(null=True)
    # auto-tags for scanners and 企业微信 adds
    tags = ListAttribute[str](of=UnicodeAttribute, null=True)  # type: ignore[arg-type]  # PynamoDB types `of` as the element type; items are str
    seq = NumberAttribute(default=0)
    audience_rules = JSONAttribute(null=True)  # [{tags_all?, tags_any?, tags_none?, stages?, target_ids}]
    experiment = JSONAttribute(null=True)  # {goal, arms: [{name, weight, target_ids}], winner?, started_at}
    warned = UnicodeSetAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    due_pk = UnicodeAttribute(null=True)
    due_at = NumberAttribute(null=True)
    due_index = DueIndex()

    def update(self, actions: Any, condition: Any = None, **kwargs: Any) -> Any:
        try:
            return super().update(actions, condition=condition, **kwargs)
        finally:
            self._written()

    def save(self, condition: Any = None, **kwargs: Any) -> Any:
        try:
            return super().save(condition=condition, **kwargs)
        finally:
            self._written()

    def delete(self, condition: Any = None, **kwargs: Any) -> Any:
        try:
            return super().delete(condition=condition, **kwargs)
        finally:
            self._written()

    def _written(self) -> None:
        for listener in WRITE_LISTENERS:
            listener(self.tenant_id, self.code_id)

    # ---- key builders (the strings stored in keys and in the ``warned`` set live here only) ------

    @classmethod
    def list_start(cls, tenant_id: str, code_id: str) -> dict:
        """The exclusive start key of a query over a tenant's codes that goes on after ``code_id``."""
        return {"tenant_id": {"S": tenant_id}, "code_id": {"S": code_id}}

    @classmethod
    def due_by(cls, now: datetime):
        """The codes whose next unwarned expiry is within the warning lead time at ``now``."""
        return cls.due_index.query(DUE, cls.due_at <= int(now.timestamp()))

    @classmethod
    def due_actions(cls, due: int | None) -> list:
        """Update actions that put the code in the due index at ``due`` (or take it out)."""
        if due is None:
            return [cls.due_pk.remove(), cls.due_at.remove()]
        return [cls.due_pk.set(DUE), cls.due_at.set(due)]

    def set_due(self, due: int | None) -> None:
        self.due_pk, self.due_at = (DUE, due) if due is not None else (None, None)

    @staticmethod
    def expiry_warning_key(target: TargetMap) -> str:
        """The ``warned`` entry for one expiry of one target (a re-uploaded image warns again)."""
        return f"expiring:{target.id}:{int(target.expires_at.timestamp())}"

    @staticmethod
    def capacity_warning_key(total_capacity: int) -> str:
        """The ``warned`` entry for low capacity (a raised total capacity warns again)."""
        return f"capacity_low:{total_capacity}"


class ClaimCounter(BaseModel):
    """One shard of a target's claim counter: ``n`` visitors placed against ``cap`` (the shard's
    share of the target's capacity), and ``dn`` placed on local day ``day`` against ``dcap``.

    Its own partition key (tenant first), so shards of one hot target spread over partitions and a
    claim writes ≤ 1 KB (1 WRU). Access patterns: conditional UpdateItem per claim (the scan);
    BatchGetItem of a code's shards (views, the capacity warning, a capacity change); UpdateItem
    (SET cap/dcap) when the operator changes a capacity; ADD ``n`` per SQS batch for targets with
    no capacity (the consumer keeps their ``assigned`` figure, nothing is enforced)."""

    class Meta:
        table_name = "livecode_counters"

    pk = UnicodeAttribute(hash_key=True)
    n = NumberAttribute(default=0)
    cap = NumberAttribute(null=True)
    day = UnicodeAttribute(null=True)
    dn = NumberAttribute(null=True)
    dcap = NumberAttribute(null=True)

    @classmethod
    def key(cls, tenant_id: str, code_id: str, target_id: str, shard: int) -> str:
        return f"{tenant_id}#{code_id}#{target_id}#{shard}"
