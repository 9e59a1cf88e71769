"""Raw transactions for the engine: many people's step writes in few TransactWriteItems calls.

A :class:`Write` is one person's step: the position's conditional put (``rev`` as read) plus the
step's effects (outbox item, cap counters, tag changes) — all or nothing, so a step runs at most
once per person per entry whatever crashes or retries. Writes are packed ≤ 100 items per call
with each item key once per call; the stats deltas of a call's writes ride in it as one update per
(journey, shard). A write whose condition failed (the position moved meanwhile: another tick, an
event) is dropped from its call, which is retried without it.
"""
from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.journeys.models import STAT_SHARDS, Journey, Position

MAX_ITEMS = 100


@dataclass
class Write:
    tenant_id: str
    journey_id: str
    position: Position
    expect_rev: int | None  # None: a new position (must not exist)
    effects: list[dict] = field(default_factory=list)
    stats: Counter = field(default_factory=Counter)

    def items(self) -> list[dict]:
        return [put_position(self.position, self.expect_rev), *self.effects]


def put_position(pos: Position, expect_rev: int | None) -> dict:
    put: dict = {"TableName": Position.table_name(), "Item": pos.serialize()}
    if expect_rev is None:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put.update(ConditionExpression="#rev = :rev", ExpressionAttributeNames={"#rev": "rev"},
                   ExpressionAttributeValues={":rev": {"N": str(expect_rev)}})
    return {"Put": put}


def stats_update(tenant_id: str, journey_id: str, deltas: Counter, shard: int) -> dict:
    names, values, parts = {}, {}, []
    for n, (attr, delta) in enumerate(sorted(deltas.items())):
        names[f"#a{n}"], values[f":v{n}"] = attr, {"N": str(delta)}
        parts.append(f"#a{n} :v{n}")
    return {"Update": {"TableName": Journey.table_name(),
                       "Key": Journey.key_dict(tenant_id, Journey.stat_key(journey_id, shard)),
                       "UpdateExpression": "ADD " + ", ".join(parts),
                       "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}}


def _key_of(item: dict) -> tuple:
    op = next(iter(item.values()))
    key = op.get("Key") or {k: op["Item"][k] for k in ("pk", "sk", "tenant_id") if k in op["Item"]}
    return op["TableName"], tuple(sorted((k, str(v)) for k, v in key.items()))


def _pack(writes: list[Write]) -> list[list[Write]]:
    groups: list[list[Write]] = []
    current: list[Write] = []
    keys: set = set()
    journeys: set = set()
    for w in writes:
        own = [_key_of(i) for i in w.items()]
        extra = 0 if (w.tenant_id, w.journey_id) in journeys or not w.stats else 1
        if current and (keys & set(own) or len(keys) + len(journeys) + len(own) + extra > MAX_ITEMS):
            groups.append(current)
            current, keys, journeys = [], set(), set()
            extra = 1 if w.stats else 0
        current.append(w)
        keys.update(own)
        if w.stats:
            journeys.add((w.tenant_id, w.journey_id))
    if current:
        groups.append(current)
    return groups


def commit(writes: list[Write]) -> tuple[list[Write], list[Write]]:
    """Apply the writes: (applied, refused). A write whose position changed meanwhile is neither
    (the position is looked at again); *refused* ones failed an effect's condition (the user was
    merged away or deleted): the engine ends those entries."""
    done: list[Write] = []
    refused: list[Write] = []
    for group in _pack(writes):
        ok, bad = _commit_group(group)
        done.extend(ok)
        refused.extend(bad)
    return done, refused


def _commit_group(group: list[Write]) -> tuple[list[Write], list[Write]]:
    client = aws.client("dynamodb")
    refused: list[Write] = []
    for attempt in range(10):
        if not group:
            return [], refused
        items, owners = _items(group)
        try:
            client.transact_write_items(TransactItems=items)
            return group, refused
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or []
            failed = [i for i, r in enumerate(reasons)
                      if r.get("Code") == "ConditionalCheckFailed" and owners[i] is not None]
            if failed:
                firsts = {owners[i] for i in failed if i == 0 or owners[i - 1] != owners[i]}
                refused += [w for n, w in enumerate(group)
                            if n in {owners[i] for i in failed} - firsts]
                losers = {owners[i] for i in failed}
                group = [w for n, w in enumerate(group) if n not in losers]
                continue
            time.sleep(min(0.05 * 2 ** attempt, 1.0))  # TransactionConflict: another writer
    raise RuntimeError("journey step transactions kept conflicting; the next tick retries")


def _items(group: list[Write]) -> tuple[list[dict], list[int | None]]:
    items: list[dict] = []
    owners: list[int | None] = []
    totals: dict[tuple[str, str], Counter] = {}
    for n, w in enumerate(group):
        own = w.items()
        items.extend(own)
        owners.extend([n] * len(own))
        if w.stats:
            totals.setdefault((w.tenant_id, w.journey_id), Counter()).update(w.stats)
    shard = random.randrange(STAT_SHARDS)
    for (tenant_id, journey_id), deltas in totals.items():
        deltas = Counter({k: v for k, v in deltas.items() if v})
        if deltas:
            items.append(stats_update(tenant_id, journey_id, deltas, shard))
            owners.append(None)
    return items, owners
