"""The live code table.

One item per live code holds its targets (a list of maps, ≤ 50) with their assignment counters, so
a scan reads everything it needs with one consistent GetItem and places a visitor with one
conditional UpdateItem on ``targets[i].assigned`` (guarded by the target's id and capacity).

Access patterns:
- GetItem (tenant_id, code_id): API reads and every scan (the slug carries both ids).
- Query tenant_id: list a tenant's codes (newest first by id order is not guaranteed; sorted in app).
- Query GSI ``due-index`` (due_pk = "due", due_at <= now): codes with a target expiring within 24 h
  whose operator has not been warned yet; the scheduler tick reads it.
"""
from __future__ import annotations

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
    tags = ListAttribute(of=UnicodeAttribute, null=True)  # auto-tags for scanners and 企业微信 adds
    seq = NumberAttribute(default=0)
    warned = UnicodeSetAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    due_pk = UnicodeAttribute(null=True)
    due_at = NumberAttribute(null=True)
    due_index = DueIndex()
