"""The tick: advance every position whose time came, step by step, each step at most once.

The tick Queries the positions' sharded time index (``due_key <= now`` per shard, never a Scan),
then works in rounds: each round runs the current step of every position it holds — prefetching
what the steps read in bulk (users, cap counters, contents) — and commits the steps with
:func:`store.commit`, a position's put conditional on the ``rev`` it read together with the step's
effects. Positions whose next step is immediate go on in the next round; waits leave them in the
index until their time. A crash anywhere loses nothing and repeats nothing: an uncommitted step
is found again by the next tick, a committed one is never redone (its ``rev`` moved on).

External calls (webhook steps, non-outbox sends) are claimed first (phase ``claimed``, due at the
end of a lease), called, then recorded; a claim whose caller died is recorded ``outcome_unknown``
when its lease ends.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from chalicelib.journeys import catalog, external, positions, runner, scheduled, store
from chalicelib.journeys.models import DUE_SHARDS, Position

log = logging.getLogger("yutang.journeys")

TICK_LIMIT = 1000  # positions per shard per tick (a later tick takes the rest)
MAX_ROUNDS = 20


def due_positions(now: datetime, limit: int = TICK_LIMIT) -> list[Position]:
    bound = Position.due_bound(int(now.timestamp()))
    found: list[Position] = []
    for shard in range(DUE_SHARDS):
        found.extend(Position.due.query(str(shard), Position.due_key <= bound, limit=limit))
    return found


def run_due(now: datetime) -> int:
    """Tick job: the number of step executions committed."""
    work = due_positions(now)
    books = catalog.Catalog()
    fires = [p for p in work if Position.is_fire(p.sk)]
    work = [p for p in work if not Position.is_fire(p.sk)]
    for item in fires:  # audience entries: their people go on at the next tick
        scheduled.fire(item, now, books)
    executed = 0
    for _ in range(MAX_ROUNDS):
        if not work:
            break
        writes = runner.plan_round(work, now, books)
        done, refused = store.commit(writes)
        executed += sum(_executions(w) for w in done)
        if refused:
            store.commit([external.refused(w, now) for w in refused if w.expect_rev is not None])
        done += external.call_all([w for w in done if external.is_claim(w)], now, books)
        work = [w.position for w in done if _goes_on(w.position, now)]
    return executed


def _executions(w: store.Write) -> int:
    return sum(v for k, v in w.stats.items() if k.startswith("n:"))


def _goes_on(pos: Position, now: datetime) -> bool:
    due = positions.due_epoch(pos)
    return pos.status == "active" and due is not None and due <= now.timestamp()


def stats_of(writes: list[store.Write]) -> Counter:
    total: Counter = Counter()
    for w in writes:
        total.update(w.stats)
    return total
