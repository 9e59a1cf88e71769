"""Schedules and time rules (pure: imports nothing that does I/O): parsing, the next fire time of
a cron in a timezone, quiet hours, and the day/week periods frequency caps count in. The one rule
owned elsewhere, which event types exist, is passed in (``check_event_type``).

Cron expressions are evaluated on the *wall clock* of the campaign's timezone (croniter walks naive
local times, which only move forward), then each local time is placed on the UTC timeline:

- a local time that does not exist (the spring-forward gap) fires at the same distance after the
  gap's start, i.e. 02:30 on a 02:00→03:00 night fires at 03:30 — once;
- a local time that exists twice (the fall-back hour) fires at its first occurrence — once.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, NamedTuple

from chalicelib.error_codes import INVALID_CRON, INVALID_QUIET_HOURS, INVALID_SCHEDULE, SCHEDULE_IN_PAST
from chalicelib.errors import ValidationFailed

MAX_DELAY_MINUTES = 366 * 24 * 60
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?]+$")


class Schedule(NamedTuple):
    kind: str  # "manual" | "at" | "cron" | "after_event"
    at: datetime | None = None
    cron: str | None = None
    event_type: str | None = None
    delay_minutes: int = 0

    def as_dict(self) -> dict | None:
        if self.kind == "at":
            assert self.at is not None  # parse and from_stored always set an "at" schedule's time
            return {"at": self.at.isoformat()}
        if self.kind == "cron":
            return {"cron": self.cron}
        if self.kind == "after_event":
            return {"after_event": {"type": self.event_type, "delay_minutes": self.delay_minutes}}
        return None


class QuietHours(NamedTuple):
    start: time
    end: time

    def as_dict(self) -> dict:
        return {"start": self.start.strftime("%H:%M"), "end": self.end.strftime("%H:%M")}


# ---- parsing ------------------------------------------------------------------------------------

def parse(value: Any, now: datetime,
          check_event_type: Callable[[Any], str] | None = None) -> Schedule:
    """``null``/``{}`` → manual (POST …/run only); else exactly one of ``at``, ``cron``,
    ``after_event: {type, delay_minutes}`` (its type checked by ``check_event_type``, which
    answers the clean type or raises ValidationFailed; required for ``after_event``)."""
    if value is None or value == {}:
        return Schedule("manual")
    if not isinstance(value, dict):
        raise ValidationFailed("'schedule' must be an object", field="schedule")
    given = [k for k in ("at", "cron", "after_event") if value.get(k) is not None]
    unknown = sorted(set(value) - {"at", "cron", "after_event"})
    if unknown:
        raise ValidationFailed(f"unknown field in schedule: {unknown[0]}", field=f"schedule.{unknown[0]}")
    if len(given) != 1:
        raise ValidationFailed("'schedule' takes exactly one of 'at', 'cron' or 'after_event'",
                               code=INVALID_SCHEDULE, field="schedule")
    kind = given[0]
    if kind == "at":
        return Schedule("at", at=_parse_at(value["at"], now))
    if kind == "cron":
        return Schedule("cron", cron=parse_cron(value["cron"]))
    if check_event_type is None:
        raise TypeError("parsing an after_event schedule needs check_event_type")
    return _parse_after_event(value["after_event"], check_event_type)


def _parse_at(value: Any, now: datetime) -> datetime:
    from chalicelib.validate import parse_time

    at = parse_time(value, "schedule.at")
    if at < now - timedelta(minutes=1):
        raise ValidationFailed("'schedule.at' is in the past", code=SCHEDULE_IN_PAST,
                               field="schedule.at")
    return at


def parse_cron(value: Any) -> str:
    from croniter import croniter

    if not isinstance(value, str) or len(value) > 100:
        raise ValidationFailed("'schedule.cron' must be a cron string", field="schedule.cron")
    expr = " ".join(value.split())
    fields = expr.split(" ")
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ValidationFailed("'schedule.cron' needs 5 fields: minute hour day month weekday "
                               "(e.g. '0 10 * * 1')", code=INVALID_CRON, field="schedule.cron")
    if not croniter.is_valid(expr):
        raise ValidationFailed(f"'schedule.cron' is not a valid cron expression: {expr!r}",
                               code=INVALID_CRON, field="schedule.cron")
    if not fires(expr):
        raise ValidationFailed(f"'schedule.cron' never fires: {expr!r} (e.g. 30 February)",
                               code=INVALID_CRON, field="schedule.cron")
    return expr


def fires(expr: str) -> bool:
    """Whether a (valid) cron has a next fire time at all. Day-of-month and month are the only
    fields that can combine into an empty set; within 8 years every real date (29 February too)
    occurs, so croniter finding one from a leap year's 1 January answers for ever."""
    from croniter import CroniterBadDateError, croniter

    try:
        croniter(expr, datetime(2024, 1, 1)).get_next(datetime)
    except (CroniterBadDateError, ValueError, OverflowError):
        return False
    return True


def _parse_after_event(value: Any, check_event_type: Callable[[Any], str]) -> Schedule:
    from chalicelib.validate import integer, only_keys

    if not isinstance(value, dict):
        raise ValidationFailed("'schedule.after_event' must be an object {type, delay_minutes}",
                               field="schedule.after_event")
    only_keys(value, {"type", "delay_minutes"}, "schedule.after_event")
    try:
        event_type = check_event_type(value.get("type"))
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, code=exc.code, field="schedule.after_event.type") from None
    try:
        delay = integer(value, "delay_minutes", lo=0, hi=MAX_DELAY_MINUTES, default=0)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, field="schedule.after_event.delay_minutes") from None
    return Schedule("after_event", event_type=event_type, delay_minutes=delay)


def from_stored(data: dict | None) -> Schedule:
    if not data:
        return Schedule("manual")
    if "at" in data:
        return Schedule("at", at=datetime.fromisoformat(data["at"]))
    if "cron" in data:
        return Schedule("cron", cron=data["cron"])
    ev = data["after_event"]
    return Schedule("after_event", event_type=ev["type"], delay_minutes=int(ev["delay_minutes"]))


def parse_quiet_hours(value: Any, field: str = "quiet_hours") -> QuietHours | bool | None:
    """``{start: "HH:MM", end: "HH:MM"}`` (overnight when start > end), ``false`` for none, or
    ``null`` (inherit the tenant's default)."""
    if value is None or value is False:
        return value
    if not isinstance(value, dict) or set(value) != {"start", "end"}:
        raise ValidationFailed(f"'{field}' must be {{\"start\": \"HH:MM\", \"end\": \"HH:MM\"}}, "
                               "false or null", code=INVALID_QUIET_HOURS, field=field)
    parts = []
    for key in ("start", "end"):
        match = _HHMM.match(value[key]) if isinstance(value[key], str) else None
        if not match:
            raise ValidationFailed(f"'{field}.{key}' must be HH:MM (00:00-23:59)",
                                   code=INVALID_QUIET_HOURS, field=f"{field}.{key}")
        parts.append(time(int(match[1]), int(match[2])))
    if parts[0] == parts[1]:
        raise ValidationFailed(f"'{field}' start and end must differ", code=INVALID_QUIET_HOURS,
                               field=field)
    return QuietHours(*parts)


def quiet_from_stored(data: dict | None) -> QuietHours | None:
    if not data:
        return None
    return QuietHours(*(time.fromisoformat(data[k]) for k in ("start", "end")))


# ---- time rules ---------------------------------------------------------------------------------

def _zone(name: str):  # noqa: ANN202 - zoneinfo is imported on first use (cold start)
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def local_to_utc(naive: datetime, tz: Any) -> datetime:
    """A wall-clock time in ``tz`` on the UTC timeline (gap: shifted forward; repeat: first)."""
    return naive.replace(tzinfo=tz, fold=0).astimezone(timezone.utc)


def next_fire(cron: str, tz_name: str, after: datetime) -> datetime:
    """The first fire strictly after ``after`` (aware), as an aware UTC datetime."""
    from croniter import CroniterBadDateError, croniter

    tz = _zone(tz_name)
    after = after.astimezone(timezone.utc)
    local = after.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)
    walker = croniter(cron, local)
    for _ in range(10_000):
        try:
            candidate = local_to_utc(walker.get_next(datetime), tz)
        except (CroniterBadDateError, OverflowError):
            break
        if candidate > after:
            return candidate
    raise ValidationFailed(f"cron {cron!r} never fires", code=INVALID_CRON, field="schedule.cron")


def quiet_until(now: datetime, quiet: QuietHours | None, tz_name: str) -> datetime | None:
    """When ``now`` falls in quiet hours, the UTC time they end; else None."""
    if quiet is None:
        return None
    tz = _zone(tz_name)
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    today = local.date()
    if quiet.start < quiet.end:
        inside, end_day = quiet.start <= t < quiet.end, today
    elif t >= quiet.start:
        inside, end_day = True, today + timedelta(days=1)
    else:
        inside, end_day = t < quiet.end, today
    if not inside:
        return None
    end = local_to_utc(datetime.combine(end_day, quiet.end), tz)
    return max(end, now + timedelta(seconds=1))


class Periods(NamedTuple):
    """The counters a send increments (today, this ISO week) and the stale ones it removes."""
    day: str
    week: str
    stale: tuple[str, ...]


def periods(now: datetime, tz_name: str) -> Periods:
    local = now.astimezone(_zone(tz_name)).date()
    stale_days = tuple(_day(local - timedelta(days=n)) for n in range(1, 8))
    stale_weeks = tuple(_week(local - timedelta(weeks=n)) for n in (1, 2))
    return Periods(_day(local), _week(local), stale_days + stale_weeks)


def _day(d: date) -> str:
    return d.isoformat()


def _week(d: date) -> str:
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"
