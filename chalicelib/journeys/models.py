"""Journey tables. Every key starts with the tenant id.

``journeys`` (hash ``tenant_id``, range ``sk``):
- ``J#<journey>``              the journey: name, status (active|paused|archived), entry, re-entry
                               rule, timezone and ``version`` (the one new entries start on)
- ``V#<journey>#<version>``    a version's steps and goal (never changed: people in flight finish
                               on the version they entered)
- ``T#<trigger>#<journey>``    trigger index of an active journey (``event:order_paid``,
                               ``tag:vip``, ``stage:paying``)
- ``S#<journey>#<shard>``      stats counters (dynamic attributes, see :mod:`.stats`)
  Access: GetItem; Query ``begins_with(J#)`` (list), ``begins_with(T#<trigger>#)`` (entries),
  ``begins_with(S#<journey>#)`` (stats).

``journey_positions`` (hash ``pk`` = ``<tenant>#<user>``, range ``sk``):
- ``<journey>#<entry>``        one person's entry: version, current step and phase, path taken,
                               A/B arms, events seen since entry, entry event properties, history,
                               ``rev`` (every write is conditional on it: a step runs once)
- ``L#<journey>``              the person's re-entry lock (last entry time and id)
  and in the partition ``<tenant>#~schedule``: ``F#<journey>``, the next fire of a journey entered
  by an audience at a schedule (``props``: the fire time and the audience cursor while it pages)
  The sparse index ``due`` (hash ``due_shard`` "0".."7", range ``due_key`` =
  ``<epoch 10 digits>#<pk>#<sk>``) holds the positions waiting for a time: the sharded time index
  the tick Queries with ``due_key <= now`` (no Scan). A finished position leaves the index.
  Access: Query ``pk`` (a person's journeys), Query ``due`` per shard (the tick).
"""
from __future__ import annotations

import zlib

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.db import BaseModel

DUE_SHARDS = 8
STAT_SHARDS = 8


class Journey(BaseModel):
    class Meta:
        table_name = "journeys"

    tenant_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    journey_id = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    entry = JSONAttribute(null=True)
    reentry = JSONAttribute(null=True)
    timezone = UnicodeAttribute(null=True)
    version = NumberAttribute(null=True)
    steps = JSONAttribute(null=True)
    goal = JSONAttribute(null=True)
    next_fire_at = NumberAttribute(null=True)
    created_at = NumberAttribute(null=True)
    updated_at = NumberAttribute(null=True)

    @staticmethod
    def journey_key(journey_id: str = "") -> str:
        return f"J#{journey_id}"

    @staticmethod
    def version_key(journey_id: str, version: int) -> str:
        return f"V#{journey_id}#{version:05d}"

    @staticmethod
    def trigger_key(trigger: str, journey_id: str = "") -> str:
        return f"T#{trigger}#{journey_id}"

    @staticmethod
    def stat_key(journey_id: str, shard: int | str = "") -> str:
        return f"S#{journey_id}#{shard}"

    @staticmethod
    def key_dict(tenant_id: str, sk: str) -> dict:
        return {"tenant_id": {"S": tenant_id}, "sk": {"S": sk}}


class DueIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "due"
        projection = AllProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    due_key = UnicodeAttribute(range_key=True)


class Position(BaseModel):
    class Meta:
        table_name = "journey_positions"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    journey_id = UnicodeAttribute()
    entry_id = UnicodeAttribute(null=True)
    version = NumberAttribute(null=True)
    step = UnicodeAttribute(null=True)
    phase = UnicodeAttribute(null=True)  # "" | waiting | got | claimed
    status = UnicodeAttribute(null=True)  # active | exited | converted | archived
    path = UnicodeAttribute(null=True)
    arms = JSONAttribute(null=True)  # {split step: arm}
    seen = JSONAttribute(null=True)  # {event type: epoch}, since entry
    props = JSONAttribute(null=True)  # the entry event's properties
    goal = UnicodeAttribute(null=True)  # the goal event type of the version entered
    history = JSONAttribute(null=True)  # [[step, epoch, outcome], ...]
    steps_run = NumberAttribute(null=True)
    entered_at = NumberAttribute(null=True)
    ended_at = NumberAttribute(null=True)
    lease = NumberAttribute(null=True)  # claimed external call: epoch its caller may run until
    last_at = NumberAttribute(null=True)  # re-entry lock: epoch of the last entry
    rev = NumberAttribute(null=True)
    due_shard = UnicodeAttribute(null=True)
    due_key = UnicodeAttribute(null=True)
    due = DueIndex()

    @staticmethod
    def partition(tenant_id: str, user_id: str) -> str:
        return f"{tenant_id}#{user_id}"

    @staticmethod
    def entry_key(journey_id: str, entry_id: str = "") -> str:
        return f"{journey_id}#{entry_id}"

    @staticmethod
    def lock_key(journey_id: str) -> str:
        return f"L#{journey_id}"

    @staticmethod
    def is_lock(sk: str) -> bool:
        return sk.startswith("L#")

    SCHEDULE_USER = "~schedule"

    @staticmethod
    def fire_key(journey_id: str) -> str:
        return f"F#{journey_id}"

    @staticmethod
    def is_fire(sk: str) -> bool:
        return sk.startswith("F#")

    @staticmethod
    def shard_of(pk: str, sk: str) -> str:
        return str(zlib.crc32(f"{pk}#{sk}".encode()) % DUE_SHARDS)

    @staticmethod
    def due_key_of(epoch: int, pk: str, sk: str) -> str:
        return f"{epoch:010d}#{pk}#{sk}"

    @staticmethod
    def due_bound(epoch: int) -> str:
        return f"{epoch:010d}#~"

    @staticmethod
    def key_dict(pk: str, sk: str) -> dict:
        return {"pk": {"S": pk}, "sk": {"S": sk}}
