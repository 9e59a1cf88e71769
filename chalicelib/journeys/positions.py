"""A position in memory: copies, moves, history, the time index fields and the stats a move
makes (no I/O; :mod:`.store` writes them)."""
from __future__ import annotations

from collections import Counter

from chalicelib.journeys import steps as step_rules
from chalicelib.journeys.models import Position

MAX_HISTORY = 100
MAX_STEPS_RUN = 500  # an entry that ran this many steps ends (a loop with a short wait)


def copy(pos: Position) -> Position:
    return Position.from_raw_data(pos.serialize())


def note(pos: Position, step: str, at: int, text: str) -> None:
    history = list(pos.history or [])
    history.append([step, at, text])
    pos.history = history[-MAX_HISTORY:]


def set_due(pos: Position, epoch: int | None) -> None:
    if epoch is None:
        pos.due_shard = pos.due_key = None
    else:
        pos.due_shard = Position.shard_of(pos.pk, pos.sk)
        pos.due_key = Position.due_key_of(epoch, pos.pk, pos.sk)


def due_epoch(pos: Position) -> int | None:
    return int(pos.due_key.split("#", 1)[0]) if pos.due_key else None


def move(pos: Position, to: str, stats: Counter, counted: bool) -> None:
    """Leave the current step for ``to`` (in memory), with its counters."""
    stats.update(step_rules.moved_stats(pos.step, to, counted))
    pos.step, pos.phase, pos.lease = to, None, None


def extend_path(pos: Position, step: str, choice: str, arm: str | None, stats: Counter) -> None:
    pos.path = f"{pos.path}/{step}={choice}" if pos.path else f"{step}={choice}"
    if arm is not None:
        pos.arms = {**(pos.arms or {}), step: arm}
        stats[f"arm:{step}:{arm}"] += 1


def end(pos: Position, status: str, now: int, stats: Counter, text: str) -> None:
    """Finish the entry: out of the time index; counted per path (and converted per path/arm)."""
    pos.status, pos.ended_at, pos.phase, pos.lease = status, now, None, None
    set_due(pos, None)
    note(pos, pos.step or "", now, text)
    stats[f"pp:{pos.path or ''}"] += 1
    stats[status] += 1
    if status == "converted":
        stats[f"cp:{pos.path or ''}"] += 1
        for split, arm in (pos.arms or {}).items():
            stats[f"ca:{split}:{arm}"] += 1
