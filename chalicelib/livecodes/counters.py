"""Claim counters: where a target's capacity and daily capacity are enforced.

A target with a ``capacity`` or a ``daily_capacity`` has counter items (:class:`ClaimCounter`),
``active`` shards of them: one, or for a lifetime capacity above ``SHARD_SIZE`` one per
``SHARD_SIZE`` (≤ ``MAX_SHARDS``), so one hot target takes up to 10,000 claims/s under DynamoDB's
1,000 write units per second per partition. Each shard holds its share of the capacity (``cap``)
and, for a daily capacity (always one shard), the day in the code's timezone and that day's count.
A claim is one conditional UpdateItem on one shard (1 WRU): it succeeds only while the shard has
room, so the sum of the shards never passes the capacity whatever the scan path read, and a full
shard sends the claim to another; the target is full when every shard is. Targets with neither
capacity write nothing on the request path (the consumer counts their ``assigned`` per batch).

What this container learnt about shards (from its claims' answers and its reads) is kept for the
routing-data cache's bound: a hint that steers scans past full targets, never a guarantee.

Migration: a code from before the counters keeps its count in ``targets[i].assigned`` (the base);
its first claim finds no counter, reads the code consistently and creates the shards with the
capacity left over the base (conditional puts: concurrent first claims create them once).
"""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError

from chalicelib.db import condition_failed
from chalicelib.error_codes import CONCURRENT_CHANGE
from chalicelib.livecodes.models import ClaimCounter, LiveCode, TargetMap
from chalicelib.settings import get_settings

SHARD_SIZE = 1000  # claims/s one shard takes (1 WRU per claim, 1,000 WCU/s per partition)
MAX_SHARDS = 10
REBASE_ATTEMPTS = 8


class Shard(NamedTuple):
    n: int = 0
    cap: int | None = None
    day: str | None = None
    dn: int = 0
    dcap: int | None = None

    def full(self, today: str) -> bool:
        return (self.cap is not None and self.n >= self.cap) or self.full_today(today)

    def full_today(self, today: str) -> bool:
        if self.dcap is None:
            return False
        if self.day is not None and self.day > today:
            return True  # the counter is already on the next day: nothing left for this one
        return self.day == today and self.dn >= self.dcap

    def today(self, today: str) -> int:
        return self.dn if self.day == today else 0


# ---- pure: shards and shares ---------------------------------------------------------------------

def limited(t: TargetMap) -> bool:
    return t.capacity is not None or t.daily_capacity is not None


def shards_for(capacity: int | None, daily_capacity: int | None) -> int:
    """Active shards: one, unless a lifetime-only capacity needs more than a partition's writes."""
    if capacity is None or daily_capacity is not None:
        return 1
    return max(1, min(MAX_SHARDS, -(-int(capacity) // SHARD_SIZE)))


def shares(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def active(t: TargetMap) -> int:
    return shards_for(_int(t.capacity), _int(t.daily_capacity))


def ever(t: TargetMap) -> int:
    """Shards that may hold counts (frozen ones, past a capacity change, included)."""
    return max(int(t.shards or 1), active(t))


def keys(tenant_id: str, code_id: str, t: TargetMap) -> list[str]:
    return [ClaimCounter.key(tenant_id, code_id, t.id, i) for i in range(ever(t))]


def plan(t: TargetMap, counts: list[int]) -> list[Shard]:
    """Each shard's cap and daily cap for target ``t`` given the shards' counts: the capacity left
    over the base and the counts is shared among the active shards; frozen shards keep their count
    as their cap (full)."""
    live = active(t)
    capacity = _int(t.capacity)
    caps: list[int | None] = [None] * len(counts)
    if capacity is not None:
        left = max(capacity - int(t.assigned or 0) - sum(counts), 0)
        extra = shares(left, live) + [0] * (len(counts) - live)
        caps = [n + e for n, e in zip(counts, extra, strict=True)]
    daily = _int(t.daily_capacity)
    return [Shard(n=n, cap=caps[i] if i < live or capacity is not None else n,
                  dcap=daily if i == 0 and daily is not None else (0 if daily is not None else None))
            for i, n in enumerate(counts)]


# ---- what this container knows ---------------------------------------------------------------

_lock = threading.Lock()
_known: dict[str, tuple[float, Shard]] = {}
_monotonic = time.monotonic  # tests move it


def remember(pk: str, shard: Shard) -> None:
    with _lock:
        _known[pk] = (_monotonic() + max(float(get_settings().livecode_cache_seconds), 0.0), shard)


def known(pk: str) -> Shard | None:
    hit = _known.get(pk)
    return hit[1] if hit is not None and hit[0] > _monotonic() else None


def forget(tenant_id: str, code_id: str) -> None:
    prefix = f"{tenant_id}#{code_id}#"
    with _lock:
        for pk in [k for k in _known if k.startswith(prefix)]:
            _known.pop(pk, None)


def clear() -> None:
    _known.clear()


def hinted_counts(code: LiveCode, t: TargetMap, today: str) -> tuple[int, int]:
    """(assigned, assigned today) as this container knows them; a target all of whose active
    shards are known full reads as full (the routing skips it until the hint expires)."""
    base = int(t.assigned or 0)
    if not limited(t):
        return base, 0
    pks = keys(code.tenant_id, code.code_id, t)
    shards = [known(pk) for pk in pks]
    assigned = base + sum(s.n for s in shards if s is not None)
    today_n = sum(s.today(today) for s in shards if s is not None)
    live = shards[:active(t)]
    if all(s is not None and s.full(today) for s in live):
        if any(s is not None and s.full_today(today) for s in live) and t.daily_capacity is not None:
            today_n = max(today_n, int(t.daily_capacity))
        elif t.capacity is not None:
            assigned = max(assigned, int(t.capacity))
    return assigned, today_n


# ---- the claim (request path) ------------------------------------------------------------------

def claim(code: LiveCode, t: TargetMap, today: str, rng: random.Random | None = None) -> Shard | None:
    """Place one visitor on target ``t``: the shard's state after the claim, or None when the
    target has no room (for today). One UpdateItem while the hints are right."""
    rng = rng or random.Random()
    pks = keys(code.tenant_id, code.code_id, t)[:active(t)]
    for _ in range(3 * len(pks) + 3):
        open_ = [pk for pk in pks if not _known_full(pk, today)]
        if not open_:
            return None
        pk = rng.choice(open_)
        hint = known(pk)
        new_day = t.daily_capacity is not None and hint is not None and hint.day != today
        try:
            after = _add(pk, today, new_day)
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
            _learn(code, t, pk)
            continue
        remember(pk, after)
        return after
    return None


def _known_full(pk: str, today: str) -> bool:
    hint = known(pk)
    return hint is not None and hint.full(today)


def _add(pk: str, today: str, new_day: bool) -> Shard:
    item = ClaimCounter(pk=pk)
    room = ClaimCounter.cap.does_not_exist() | (ClaimCounter.n < ClaimCounter.cap)
    if new_day:  # the first claim of a day on a daily-capped shard starts the day's count
        cond = (ClaimCounter.pk.exists() & room
                & (ClaimCounter.day.does_not_exist() | (ClaimCounter.day < today)))
        item.update(actions=[ClaimCounter.n.add(1), ClaimCounter.day.set(today),
                             ClaimCounter.dn.set(1)], condition=cond)
    else:
        daily = ClaimCounter.dcap.does_not_exist() | (
            (ClaimCounter.day == today) & (ClaimCounter.dn < ClaimCounter.dcap))
        item.update(actions=[ClaimCounter.n.add(1), ClaimCounter.dn.add(1)],
                    condition=ClaimCounter.pk.exists() & room & daily)
    return _shard(item)


def _learn(code: LiveCode, t: TargetMap, pk: str) -> None:
    """A claim's condition failed: read the shard (consistent) to learn why; a missing one means
    the target has no counters yet (a code from before them, or a new target): create them."""
    try:
        remember(pk, _shard(ClaimCounter.get(pk, consistent_read=True)))
    except DoesNotExist:
        create(code.tenant_id, code.code_id, t.id)


def start(tenant_id: str, code_id: str, targets: Iterable[TargetMap | None]) -> None:
    """The counters of new targets (new ids: nothing to race), written with the code so its first
    claims cost one write each (one BatchWriteItem per 25 shards)."""
    items = [_item(pk, shard) for t in targets if t is not None and limited(t)
             for pk, shard in zip(keys(tenant_id, code_id, t), plan(t, [0] * ever(t)), strict=True)]
    if items:
        with ClaimCounter.batch_write() as batch:
            for item in items:
                batch.save(item)


def drop(tenant_id: str, code_id: str, targets: Iterable[TargetMap | None]) -> None:
    """Delete the counters of deleted targets (one BatchWriteItem per 25 shards)."""
    pks = [pk for t in targets if t is not None for pk in keys(tenant_id, code_id, t)]
    if pks:
        with ClaimCounter.batch_write() as batch:
            for pk in pks:
                batch.delete(ClaimCounter(pk=pk))


def create(tenant_id: str, code_id: str, target_id: str) -> None:
    """The target's counter shards, from the code read consistently (its base count and caps)."""
    stored = LiveCode.get(tenant_id, code_id, consistent_read=True)
    t = next((x for x in [*(stored.targets or []), stored.fallback] if x and x.id == target_id), None)
    if t is None:
        return
    for pk, shard in zip(keys(tenant_id, code_id, t), plan(t, [0] * ever(t)), strict=True):
        try:
            _item(pk, shard).save(condition=ClaimCounter.pk.does_not_exist())
        except PutError as exc:
            if not condition_failed(exc):
                raise


# ---- counts for views and the warning check -----------------------------------------------------

def read(tenant_id: str, code_id: str, targets: Iterable[TargetMap]) -> dict[str, Shard]:
    """Every shard of the given targets, read consistently (BatchGetItem, 100 keys a call)."""
    pks = [pk for t in targets for pk in keys(tenant_id, code_id, t)]
    found: dict[str, Shard] = {}
    for i in range(0, len(pks), 100):
        for item in ClaimCounter.batch_get(pks[i:i + 100], consistent_read=True):
            found[item.pk] = _shard(item)
    return found


def totals(tenant_id: str, code_id: str, t: TargetMap, shards: dict[str, Shard],
           today: str) -> tuple[int, int]:
    """(assigned, assigned today) of ``t`` from read shards: its base plus its shards."""
    mine = [shards[pk] for pk in keys(tenant_id, code_id, t) if pk in shards]
    return int(t.assigned or 0) + sum(s.n for s in mine), sum(s.today(today) for s in mine)


def add_unlimited(tenant_id: str, code_id: str, counts: dict[str, int]) -> None:
    """The consumer: visitors placed on targets without capacity, summed over a batch (no
    condition; only the ``assigned`` figure reads them)."""
    for target_id, n in counts.items():
        ClaimCounter(pk=ClaimCounter.key(tenant_id, code_id, target_id, 0)).update(
            actions=[ClaimCounter.n.add(n)])


# ---- capacity changes (the API and 企业微信 member counts) ------------------------------------------

def rebase(tenant_id: str, code_id: str, target_id: str, reset: bool = False) -> None:
    """After a target's capacity, daily capacity or base count changed: give every shard its new
    cap in one transaction, conditioned on the counts read (a claim in between retries it). With
    ``reset`` the base count replaced the counts (an operator's ``assigned``, 企业微信's real
    member count): the shards start again from 0."""
    forget(tenant_id, code_id)
    for _ in range(REBASE_ATTEMPTS):
        stored = LiveCode.get(tenant_id, code_id, consistent_read=True)
        t = next((x for x in [*(stored.targets or []), stored.fallback] if x and x.id == target_id),
                 None)
        if t is None:
            return
        pks = keys(tenant_id, code_id, t)
        current = read(tenant_id, code_id, [t])
        if not current and not limited(t):
            return  # never counted, nothing to enforce
        seen = [current[pk].n if pk in current else None for pk in pks]
        counts = [0 if reset or n is None else n for n in seen]
        try:
            _write_plan(pks, plan(t, counts), seen, reset)
        except TransactWriteError as exc:
            if condition_failed(exc) or "TransactionConflict" in str(exc):
                continue
            raise
        _record_shards(stored, t, len(pks))
        forget(tenant_id, code_id)
        return
    from chalicelib.errors import Conflict

    raise Conflict("the target's counters moved meanwhile; retry", code=CONCURRENT_CHANGE)


def _write_plan(pks: list[str], planned: list[Shard], seen: list[int | None], reset: bool) -> None:
    with ClaimCounter.transaction() as tx:
        for pk, shard, n in zip(pks, planned, seen, strict=True):
            actions: list[Any] = [ClaimCounter.cap.set(shard.cap) if shard.cap is not None
                       else ClaimCounter.cap.remove(),
                       ClaimCounter.dcap.set(shard.dcap) if shard.dcap is not None
                       else ClaimCounter.dcap.remove()]
            if reset or n is None:
                actions.append(ClaimCounter.n.set(shard.n))
            cond = None if reset else (ClaimCounter.pk.does_not_exist() if n is None
                                       else ClaimCounter.n == n)
            tx.update(ClaimCounter(pk=pk), actions=actions, condition=cond)


def _record_shards(stored: LiveCode, t: TargetMap, count: int) -> None:
    """Remember on the target how many shards may hold counts (they only grow)."""
    if int(t.shards or 1) >= count:
        return
    if stored.fallback is not None and t.id == stored.fallback.id:
        path: Any = LiveCode.fallback.shards
        stored.update(actions=[path.set(count)])
        return
    index = next(i for i, x in enumerate(stored.targets) if x.id == t.id)
    target_path = LiveCode.targets[index]
    stored.update(actions=[target_path["shards"].set({"N": str(count)})],
                  condition=target_path["id"] == t.id)


# ---- items ----------------------------------------------------------------------------------------

def _shard(item: ClaimCounter) -> Shard:
    return Shard(n=int(item.n or 0), cap=_int(item.cap), day=item.day, dn=int(item.dn or 0),
                 dcap=_int(item.dcap))


def _item(pk: str, shard: Shard) -> ClaimCounter:
    item = ClaimCounter(pk=pk, n=shard.n)
    item.cap, item.dcap = shard.cap, shard.dcap
    return item


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
