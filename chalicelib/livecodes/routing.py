"""Which target a scan goes to: pure functions, no I/O.

Rules, in order:
1. Outside the code's weekday/time windows (in its timezone) only the fallback may answer.
2. A target is eligible when enabled, not expired, below its capacity (no capacity: unlimited)
   and below its ``daily_capacity`` for today (the caller gives today's count in the code's
   timezone, 0 on a new day). Backup targets (``backup``) are eligible only when no primary is.
3. ``fill`` takes the first eligible target in order; ``round_robin`` rotates through the eligible
   ones by the code's assignment sequence; ``weighted`` draws among them by weight.
4. Nothing eligible: the fallback, when it is itself enabled, unexpired and not full.
5. A returning visitor keeps their target while it is enabled, unexpired and (windows permitting)
   available; they never consume capacity again.

:func:`route` puts a code's own rules in front of these (each applied with :func:`choose` to a part
of the targets, so every eligibility rule holds inside it), first that finds a target wins:
audience rules for a known visitor (:mod:`rules_audience`), the nearest store in reach or a store
of the visitor's region (:mod:`rules_stores`), the experiment's arm (:mod:`rules_experiment`), then
the targets none of those reserve, then the fallback.
"""
from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from chalicelib.livecodes import rules_audience, rules_experiment, rules_stores

STRATEGIES = ("fill", "round_robin", "weighted")
KINDS = ("group", "staff", "url")


class Target(NamedTuple):
    id: str
    kind: str = "group"
    capacity: int | None = None
    assigned: int = 0
    expires_at: datetime | None = None
    weight: int = 1
    enabled: bool = True
    store: rules_stores.Store | None = None
    daily_capacity: int | None = None
    assigned_today: int = 0  # visitors placed today, in the code's timezone
    backup: bool = False

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def full(self) -> bool:
        return (self.capacity is not None and self.assigned >= self.capacity) or self.full_today()

    def full_today(self) -> bool:
        return self.daily_capacity is not None and self.assigned_today >= self.daily_capacity

    def available(self, now: datetime) -> bool:
        return self.enabled and not self.expired(now)

    def eligible(self, now: datetime) -> bool:
        return self.available(now) and not self.full()


class Window(NamedTuple):
    days: tuple[int, ...]  # ISO weekdays, 1 = Monday ... 7 = Sunday
    start: time
    end: time | None  # None = until midnight ("24:00")

    def contains(self, local: datetime) -> bool:
        t, day = local.time(), local.isoweekday()
        end = self.end
        if end is None or self.start < end:
            return day in self.days and self.start <= t and (end is None or t < end)
        previous = 7 if day == 1 else day - 1  # overnight window, e.g. 22:00-02:00
        return (day in self.days and t >= self.start) or (previous in self.days and t < end)


class Rules(NamedTuple):
    strategy: str = "fill"
    targets: Sequence[Target] = ()
    fallback: Target | None = None
    windows: Sequence[Window] = ()
    timezone: str = "Asia/Shanghai"
    seq: int = 0
    audience: tuple[rules_audience.AudienceRule, ...] = ()
    experiment: rules_experiment.Experiment | None = None


class Decision(NamedTuple):
    target: Target | None
    fallback: bool = False
    reason: str = "ok"  # ok | outside-hours | no-target-available
    eligible_ids: tuple[str, ...] = ()
    via: str = "default"  # default | audience | store-nearest | store-region | experiment
    arm: str | None = None


def in_windows(rules: Rules, now: datetime) -> bool:
    if not rules.windows:
        return True
    local = now.astimezone(ZoneInfo(rules.timezone))
    return any(w.contains(local) for w in rules.windows)


def choose(rules: Rules, now: datetime, rng: random.Random | None = None) -> Decision:
    if not in_windows(rules, now):
        return _fallback(rules, now, "outside-hours")
    eligible = with_room(rules.targets, now)
    if not eligible:
        return _fallback(rules, now, "no-target-available")
    ids = tuple(t.id for t in eligible)
    if rules.strategy == "round_robin":
        return Decision(eligible[rules.seq % len(eligible)], eligible_ids=ids)
    if rules.strategy == "weighted":
        return Decision(_weighted(eligible, rng or random.Random()), eligible_ids=ids)
    return Decision(eligible[0], eligible_ids=ids)


def with_room(targets: Sequence[Target], now: datetime) -> list[Target]:
    """The targets that may take a new visitor now: the eligible primaries, else the eligible
    backups (a backup takes over when every primary is full, daily-capped, expired or off)."""
    eligible = [t for t in targets if t.eligible(now)]
    primaries = [t for t in eligible if not t.backup]
    return primaries or eligible


def _weighted(targets: Sequence[Target], rng: random.Random) -> Target:
    weights = [max(t.weight, 0) for t in targets]
    if sum(weights) <= 0:
        return targets[0]
    return rng.choices(list(targets), weights=weights, k=1)[0]


def _fallback(rules: Rules, now: datetime, reason: str) -> Decision:
    fb = rules.fallback
    if fb is not None and fb.eligible(now):
        return Decision(fb, fallback=True, reason=reason)
    return Decision(None, reason=reason)


def sticky(rules: Rules, target_id: str, now: datetime) -> Target | None:
    """The returning visitor's previous target, if it may still answer them (no capacity check)."""
    if rules.fallback is not None and rules.fallback.id == target_id:
        return None  # a visitor parked on the fallback is routed again: a real target may have opened
    if not in_windows(rules, now):
        return None
    for t in rules.targets:
        if t.id == target_id:
            return t if t.available(now) else None
    return None


def remaining_capacity(rules: Rules, now: datetime) -> int | None:
    """Visitors the code can still place; None when some available target is unlimited."""
    total = 0
    for t in rules.targets:
        if not t.available(now):
            continue
        if t.capacity is None:
            return None
        total += max(t.capacity - t.assigned, 0)
    return total


def expiring_soon(rules: Rules, now: datetime, within: timedelta = timedelta(hours=24)) -> list[Target]:
    return [t for t in rules.targets
            if t.enabled and t.expires_at is not None and now < t.expires_at <= now + within]


def parse_window(raw: dict) -> Window:
    """Parse ``{days:[1..7], start:"HH:MM", end:"HH:MM"}``; raises ValueError with a reason."""
    days = raw.get("days", [1, 2, 3, 4, 5, 6, 7])
    if (not isinstance(days, list) or not days
            or not all(isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7 for d in days)):
        raise ValueError("days must be a non-empty list of ISO weekdays 1 (Mon) .. 7 (Sun)")
    start = _hhmm(raw.get("start", "00:00"))
    end_raw = raw.get("end", "24:00")
    end = None if end_raw == "24:00" else _hhmm(end_raw)
    if start is None or (end is None and end_raw != "24:00"):
        raise ValueError("start and end must be HH:MM (end may be 24:00)")
    if end is not None and end == start:
        raise ValueError("a window's start and end must differ")
    return Window(tuple(sorted(set(days))), start, end)


def _hhmm(value: object) -> time | None:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return None
    try:
        return time(int(value[:2]), int(value[3:]))
    except ValueError:
        return None


# ---- a code's own rules in front of the strategy ------------------------------------------------

class Context(NamedTuple):
    """What a scan knows of the visitor beyond their cookie."""
    profile: rules_audience.Profile | None = None  # a known customer's tags and stage
    point: rules_stores.Point | None = None  # the position they shared
    region: str | None = None  # from the offline IP table
    previous: str | None = None  # the target they had (now closed), for their experiment arm


def has_own_rules(rules: Rules) -> bool:
    return bool(rules.audience or rules.experiment or any(t.store for t in rules.targets))


def route(rules: Rules, now: datetime, ctx: Context = Context(),
          rng: random.Random | None = None) -> Decision:
    """The target for a new (or re-routed) visitor: the code's own rules, then :func:`choose`."""
    if not has_own_rules(rules) or not in_windows(rules, now):
        return choose(rules, now, rng)
    rng = rng or random.Random()
    for pool, strategy, via, arm in _pools(rules, ctx, now, rng):
        decision = choose(_only(rules, pool, strategy), now, rng)
        if decision.target is not None:
            return decision._replace(via=via, arm=arm)
    return _fallback(rules, now, "no-target-available")


def _only(rules: Rules, pool: Sequence[Target], strategy: str | None = None) -> Rules:
    return rules._replace(targets=tuple(pool), fallback=None, strategy=strategy or rules.strategy)


def _pools(rules: Rules, ctx: Context, now: datetime, rng: random.Random) -> Iterator[
        tuple[list[Target], str | None, str, str | None]]:
    """(targets, strategy, via, arm) to try in order; each is routed by :func:`choose` alone."""
    by_id = {t.id: t for t in rules.targets}
    for rule in rules_audience.matching(rules.audience, ctx.profile):
        yield [t for t in rules.targets if t.id in rule.target_ids], None, "audience", None
    stores = [(t.id, t.store) for t in rules.targets if t.store is not None]
    if ctx.point is not None:  # nearest first: "fill" takes the first with room
        nearest = [by_id[i] for i in rules_stores.nearest(stores, ctx.point)]
        yield nearest, "fill", "store-nearest", None
    yield [by_id[i] for i in rules_stores.in_region(stores, ctx.region)], None, "store-region", None
    reserved = rules_audience.reserved(rules.audience) | {t.id for t in rules.targets if t.store}
    pool = [t for t in rules.targets if t.id not in reserved]
    exp = rules.experiment
    if exp is not None:
        def has_room(arm: rules_experiment.Arm) -> bool:
            probe = _only(rules, [t for t in pool if t.id in arm.target_ids], "fill")
            return choose(probe, now).target is not None

        arm = rules_experiment.draw(exp, has_room, ctx.previous, random.Random(rng.random()))
        if arm is not None:
            yield [t for t in pool if t.id in arm.target_ids], None, "experiment", arm.name
        pool = [t for t in pool if t.id not in exp.covered()]
    yield pool, None, "default", None
