"""Journey benchmark on the embedded stack (moto over HTTP, as `make dev` runs it).

N people (1,000 small, 10,000 full; ``YUTANG_BENCH_JOURNEY_PEOPLE`` overrides) enter a 4-step
journey — wait 60 min → branch on a tag → send (outbox) → add a tag → exit — through the events
consumer (``order_paid`` payloads in SQS-sized batches of 10), then the tick runs at entry time
(the waits start) and 61 minutes later (the rest) until nothing is due.

- Every step exactly once per person: each step's execution counter, outbox items, cap counters
  and tags equal N.
- AWS calls per 1,000 step executions of the ticks (botocore before-send hooks, as every bench).
- Step throughput (executions/s of the ticks) against writing the same number of position items
  with PynamoDB batch_write in the same run (mean of one baseline before and one after).
"""
from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone

from bench.campaigns import TAG, seed_users, settled
from bench.common import counting, row

SIZES = {"small": 1_000, "full": 10_000}
STEPS = [{"id": "w", "type": "wait", "minutes": 60, "next": "b"},
         {"id": "b", "type": "branch", "if": {"tags_any": [TAG]}, "then": "s", "else": "x"},
         {"id": "s", "type": "send", "channel": "outbox", "message": {"text": "首单礼 立减10元"},
          "next": "t"},
         {"id": "t", "type": "tag", "add": ["journeyed"], "next": "x"},
         {"id": "x", "type": "exit"}]


def enter(tenant_id: str, users: list[str], at: datetime, batch: int = 100) -> None:
    """The entering half of the events consumer (trigger index, positions with their re-entry
    locks, committed together), ``batch`` people per call. (The consumer also Queries each
    person's partition for positions in flight: one more call per event, printed apart.)"""
    from chalicelib.journeys import catalog, entries, store

    for i in range(0, len(users), batch):
        books = catalog.Catalog()
        writes = [entries.enter(j, books, u, entries.entry_id(int(at.timestamp()), f"bench#{u}"),
                                at, {"amount": 10})
                  for u in users[i:i + batch]
                  for j in entries.triggered(tenant_id, "event:order_paid", books)]
        store.commit(writes)


def ticks(at: datetime) -> int:
    from chalicelib.journeys import engine

    total = 0
    while n := engine.run_due(at):
        total += n
    return total


def baseline(tenant_id: str, users: list[str], tag: str) -> float:
    """Position-sized items written with batch_write: one per step execution (4 per person)."""
    from chalicelib.journeys.models import Position

    with settled():
        started = time.perf_counter()
        with Position.batch_write() as batch:
            for uid in users:
                for step in ("w", "b", "s", "t"):
                    batch.save(Position(pk=Position.partition(tenant_id, uid),
                                        sk=f"baseline-{tag}#{step}", tenant_id=tenant_id,
                                        user_id=uid, journey_id="baseline", version=1, step=step,
                                        status="active", path="b=then", arms={}, seen={},
                                        props={"amount": 10}, goal=None,
                                        history=[[step, 0, "entered"]], steps_run=1, rev=1))
        return time.perf_counter() - started


def _exact(tenant_id: str, jid: str, users: list[str]) -> bool:
    from chalicelib.audience import users as audience
    from chalicelib.channels.models import OutboxItem
    from chalicelib.journeys import stats

    s = {r["id"]: r["executions"] for r in stats.journey_stats(tenant_id, jid)["steps"]}
    sent = sum(1 for _ in OutboxItem.query(tenant_id, OutboxItem.sk.startswith(
        OutboxItem.key(jid))))
    tagged = sum("journeyed" in v["tags"] for v in audience.get_users(tenant_id, users).values())
    n = len(users)
    return s == {"w": n, "b": n, "s": n, "t": n, "x": n} and sent == n and tagged == n


def run(size: str) -> list[dict]:
    from tests.support import stack

    n = int(os.environ.get("YUTANG_BENCH_JOURNEY_PEOPLE") or SIZES[size])
    with stack.moto_over_http():
        from chalicelib.auth import service as auth
        from chalicelib.journeys import service

        body = {"name": "首单转化", "entry": {"event": "order_paid"}, "steps": STEPS}
        t0 = datetime.now(timezone.utc) + timedelta(minutes=5)  # after every entry's time
        later = t0 + timedelta(minutes=61)
        warm = auth.create_tenant("warm")["tenant_id"]  # a warm container: clients, tables
        service.create(warm, body)
        enter(warm, seed_users(warm, 20), t0)
        ticks(t0)
        ticks(later)
        tenant_id = auth.create_tenant("bench")["tenant_id"]
        users = seed_users(tenant_id, n)
        jid = service.create(tenant_id, body)["id"]
        before = baseline(tenant_id, users, "before")
        with counting() as entry_calls:
            started = time.perf_counter()
            enter(tenant_id, users, t0)
            entering = time.perf_counter() - started
        with counting() as calls, settled():
            started = time.perf_counter()
            executed = ticks(t0) + ticks(later)
            elapsed = time.perf_counter() - started
        floor = (before + baseline(tenant_id, users, "after")) / 2
        exact = _exact(tenant_id, jid, users)
    steps = 4 * n
    per_1000 = calls.total * 1000 / steps
    ratio = floor / elapsed
    top = ", ".join(f"{k} {v}" for k, v in calls.calls.most_common())
    return [
        row(f"journey for {n} people: every step once (w, b, s, t, exit)", executed, "steps",
            f"== {5 * n}", exact and executed == 5 * n),
        row("tick AWS calls per 1,000 step executions", per_1000, "calls", "<= 150",
            per_1000 <= 150),
        row("tick steps/s vs batch_write of as many position items/s", ratio, "x",
            f">= 0.3 ({steps / elapsed:.0f}/s vs {steps / floor:.0f}/s)", ratio >= 0.3),
        row("  tick calls", calls.total, "calls", top),
        row("entries: AWS calls per 1,000 people (consumer)", entry_calls.total * 1000 / n,
            "calls", f"{n / entering:.0f} people/s"),
    ]
