"""What one step does to one position (no I/O): the decision and its stats; the engine writes it.

Timed steps (wait, wait_event) first *start* (the position waits, due at the end time) and later
*finish* (the engine moves on without writing in between: finishing has no effect). Send, tag and
webhook steps get their effects from :mod:`.effects` and :mod:`.sending`.
"""
from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chalicelib.journeys import conditions

WAITING, GOT, CLAIMED = "waiting", "got", "claimed"


@dataclass
class Outcome:
    """``next``: the step to move to (None: stay at this one, due at ``due_at``)."""
    note: str
    next: str | None = None
    due_at: int | None = None
    phase: str | None = None
    effects: list[dict] = field(default_factory=list)
    choice: str | None = None  # branch / split: the way taken (part of the path)
    arm: str | None = None
    counts: bool = True  # an execution of the step (False: a deferral)
    tally: list[str] = field(default_factory=list)  # extra counters (sent, skipped:<reason>)


def wait_start(step: dict, now: datetime, tz_name: str) -> Outcome:
    if "until" in step:
        at = next_local_time(now, step["until"], tz_name)
    else:
        at = now + timedelta(seconds=step["seconds"])
    return Outcome("waiting", due_at=int(at.timestamp()), phase=WAITING)


def next_local_time(now: datetime, hhmm: str, tz_name: str) -> datetime:
    """The next moment after ``now`` whose wall clock in ``tz_name`` reads ``hhmm``."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(tz_name)
    local = now.astimezone(tz)
    hour, minute = (int(p) for p in hhmm.split(":"))
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= local:
        candidate = (local + timedelta(days=1)).replace(hour=hour, minute=minute, second=0,
                                                        microsecond=0)
    return candidate.replace(tzinfo=None).replace(tzinfo=tz)


def wait_event_start(step: dict, now: datetime) -> Outcome:
    at = now + timedelta(seconds=step["timeout_seconds"])
    return Outcome(f"waiting for {step['event']}", due_at=int(at.timestamp()), phase=WAITING)


def finish(step: dict, phase: str | None) -> tuple[str, str]:
    """(next step, note) of a timed step whose time came (or whose event arrived)."""
    if step["type"] == "wait_event":
        return (step["next"], "event arrived") if phase == GOT else (step["timeout"], "timed out")
    return step["next"], "waited"


def branch(step: dict, ctx: conditions.Context) -> Outcome:
    taken = conditions.evaluate(step["if"], ctx)
    way = "then" if taken else "else"
    return Outcome(way, next=step[way], choice=way)


def split(step: dict, entry_key: str) -> Outcome:
    """The arm for this entry: a stable hash of (entry, step) over the weights (a replay picks the
    same arm)."""
    total = sum(a["weight"] for a in step["arms"])
    point = zlib.crc32(f"{entry_key}#{step['id']}".encode()) % total
    for arm in step["arms"]:
        point -= arm["weight"]
        if point < 0:
            return Outcome(f"arm {arm['name']}", next=arm["next"], choice=arm["name"],
                           arm=arm["name"])
    raise AssertionError("weights exhausted")  # pragma: no cover - sum covers every point


def moved_stats(journey_step: str, to: str | None, counted: bool) -> Counter:
    """Counters of a position leaving ``journey_step`` for ``to`` (people per step, executions)."""
    deltas: Counter = Counter()
    if counted:
        deltas[f"n:{journey_step}"] += 1
    if to is not None and to != journey_step:
        deltas[f"at:{journey_step}"] -= 1
        deltas[f"at:{to}"] += 1
    return deltas
