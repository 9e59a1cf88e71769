"""Recipient batches and their stats: the batch item's state (its delivery rows, guarded by
``rev``), the stats-shard increments written in the same transactions, and the summed stats.

See :mod:`chalicelib.campaigns.sender` for how a batch moves and
:mod:`chalicelib.campaigns.models` for the items."""
from __future__ import annotations

import zlib
from datetime import datetime, timezone
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.campaigns import rules
from chalicelib.campaigns.models import COUNTERS, STAT_SHARDS, CampaignBatch
from chalicelib.campaigns.wire import Row, Status, rows_from_record, rows_to_record

BATCH_SIZES = {"outbox": 1000, "webhook": 128, "wecom": 1000}
_COUNTED = {Status.SENT: "sent", Status.FAILED: "failed", Status.DEFERRED: "deferred"}


def batch_size(channel: str) -> int:
    return BATCH_SIZES[channel]


def batch_name(page: int, index: int) -> str:
    """The name of batch ``index`` of dispatch page ``page`` (stable: a replay rebuilds it)."""
    return f"{page:05d}.{index:02d}"


def row(status: Status | str, now: datetime, reason: str | None = None, **extra: Any) -> Row:
    return Row(Status(status), now.isoformat(timespec="seconds"), reason,
               **{k: v for k, v in extra.items() if v is not None})


class State:
    """A batch item as one sender saw it: its users, rows and ``rev`` (None: not stored yet)."""

    def __init__(self, pk: str, sk: str, users: list[str], rows: dict[str, Row] | None = None,
                 rev: int | None = None) -> None:
        self.pk, self.sk, self.users = pk, sk, users
        self.rows: dict[str, Row] = rows or {}
        self.rev = rev

    @classmethod
    def load(cls, pk: str, sk: str, users: list[str]) -> State:
        try:
            item = CampaignBatch.get(pk, sk, consistent_read=True)
        except DoesNotExist:
            return cls(pk, sk, users)
        return cls(pk, sk, list(item.users or users), rows_from_record(item.rows),
                   int(item.rev or 0))

    def status(self, user: str) -> Status | None:
        current = self.rows.get(user)
        return current.status if current else None

    def put(self, rows: dict[str, Row]) -> dict:
        """The conditional Put of the item with ``rows`` applied (a TransactWriteItems entry)."""
        item = CampaignBatch(pk=self.pk, sk=self.sk, users=self.users,
                             rows=rows_to_record({**self.rows, **rows}), rev=(self.rev or 0) + 1)
        put: dict[str, Any] = {"TableName": CampaignBatch.table_name(), "Item": item.serialize()}
        if self.rev is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "rev = :rev"
            put["ExpressionAttributeValues"] = {":rev": {"N": str(self.rev)}}
        return {"Put": put}

    def applied(self, rows: dict[str, Row]) -> None:
        self.rows.update(rows)
        self.rev = (self.rev or 0) + 1


def stat_update(pk: str, run_id: str, batch: str, counts: dict[str, int],
                at: datetime | None = None) -> dict | None:
    """The stats shard increments; with ``at``, also the shard's ``last_at`` (the run's activity,
    which the lease check reads: see :mod:`chalicelib.campaigns.redrive`)."""
    counts = {k: n for k, n in counts.items() if n}
    if not counts:
        return None
    shard = zlib.crc32(batch.encode()) % STAT_SHARDS
    names = {f"#c{i}": name for i, name in enumerate(counts)}
    values = {f":c{i}": {"N": str(n)} for i, n in enumerate(counts.values())}
    expression = "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counts)))
    if at is not None:
        names["#at"], values[":at"] = "last_at", {"N": str(int(at.timestamp()))}
        expression += " SET #at = :at"
    return {"Update": {"TableName": CampaignBatch.table_name(),
                       "Key": CampaignBatch.key_dict(pk, CampaignBatch.stat_key(run_id, shard)),
                       "UpdateExpression": expression,
                       "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}}


def counts_of(rows: dict[str, Row], previous: dict[str, Row]) -> dict[str, int]:
    """Stats increments for rows moving into a final (or deferred) state."""
    counts: dict[str, int] = {}
    for user, r in rows.items():
        before = previous.get(user)
        if before is not None and r.status == before.status:
            continue
        key = f"skip_{r.reason}" if r.status == Status.SKIPPED else _COUNTED.get(r.status)
        if key:
            counts[key] = counts.get(key, 0) + 1
    return counts


# ---- summed stats -------------------------------------------------------------------------------

def empty_counts() -> dict:
    return {**dict.fromkeys(COUNTERS, 0), "skipped": dict.fromkeys(rules.SKIP_REASONS, 0)}


def stat_totals(tenant_id: str, campaign_id: str, run_id: str | None) -> dict[str, dict]:
    """Summed stats shards by run id (one run, or all of the campaign's)."""
    pk = CampaignBatch.partition(tenant_id, campaign_id)
    by_run: dict[str, dict] = {}
    for item in CampaignBatch.query(pk, CampaignBatch.sk.startswith(
            CampaignBatch.stat_prefix(run_id))):
        total = by_run.setdefault(CampaignBatch.run_of(item.sk), empty_counts())
        for name in COUNTERS:
            total[name] += int(getattr(item, name) or 0)
        for reason in rules.SKIP_REASONS:
            total["skipped"][reason] += int(getattr(item, f"skip_{reason}") or 0)
    return by_run


def progress(tenant_id: str, campaign_id: str, run_id: str) -> tuple[int, datetime | None]:
    """Recipients in a final state, and the latest delivery write, from the run's stats shards."""
    done, last = 0, 0
    for shard in CampaignBatch.query(CampaignBatch.partition(tenant_id, campaign_id),
                                     CampaignBatch.sk.startswith(CampaignBatch.stat_key(run_id)),
                                     consistent_read=True, limit=STAT_SHARDS):
        done += int(shard.sent or 0) + int(shard.failed or 0)
        done += sum(int(getattr(shard, f"skip_{r}") or 0) for r in rules.SKIP_REASONS)
        last = max(last, int(shard.last_at or 0))
    return done, datetime.fromtimestamp(last, tz=timezone.utc) if last else None
