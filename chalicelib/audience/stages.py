"""Lifecycle stages (pure): computed from a user's activity days and the tenant's thresholds.

Days are UTC calendar days; ``age`` is how many days ago something happened (0 = today).
The first rule that holds wins:

1. ``paying``  an ``order_paid`` event less than ``paying_days`` ago (default 30)
2. ``new``     first seen less than ``new_days`` ago (default 7)
3. ``active``  any event less than ``active_days`` ago (default 7)
4. ``silent``  the last event less than ``churn_days`` ago (default 30)
5. ``churned`` otherwise

Because stage is a function of stored times and today's date, it is computed on read and is never
stale; audiences find candidates from day-bucket index items and re-check each user with this rule.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone

from chalicelib.errors import ValidationFailed

STAGES = ("new", "active", "silent", "churned", "paying")
MAX_DAYS = 365


@dataclass(frozen=True)
class Thresholds:
    new_days: int = 7
    active_days: int = 7
    churn_days: int = 30
    paying_days: int = 30

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_input(cls, data: dict, base: "Thresholds | None" = None) -> "Thresholds":
        from chalicelib import validate as v

        v.only_keys(data, cls.__dataclass_fields__)
        nulls = sorted(k for k, value in data.items() if value is None)
        if nulls:  # a PATCH leaves out what it keeps; null is not a number of days
            raise ValidationFailed(f"'{nulls[0]}' must be a number of days, not null", field=nulls[0])
        base = base or cls()
        values = {name: v.integer(data, name, lo=1, hi=MAX_DAYS, default=getattr(base, name))
                  for name in cls.__dataclass_fields__}
        result = cls(**values)
        if result.active_days > result.churn_days:
            raise ValidationFailed("'active_days' must not exceed 'churn_days'", field="active_days")
        return result


def day_of(value: datetime) -> date:
    """The UTC day of a time (naive times are taken as UTC)."""
    return value.date() if value.tzinfo is None else value.astimezone(timezone.utc).date()


def age(then: datetime | None, today: date) -> int | None:
    return None if then is None else (today - day_of(then)).days


def stage(first_seen: datetime | None, last_active: datetime | None, last_paid: datetime | None,
          today: date, t: Thresholds = Thresholds()) -> str:
    paid, first, last = age(last_paid, today), age(first_seen, today), age(last_active, today)
    if last is None or (first is not None and first < last):
        last = first
    if paid is not None and paid < t.paying_days:
        return "paying"
    if first is not None and first < t.new_days:
        return "new"
    if last is not None and last < t.active_days:
        return "active"
    if last is not None and last < t.churn_days:
        return "silent"
    return "churned"


def candidate_window(wanted: str, t: Thresholds) -> tuple[str, int] | None:
    """The bucket kind and window (days) whose users are a superset of a stage, or None when only
    the full user listing is (``churned``: users with no recent bucket)."""
    return {"paying": ("P", t.paying_days), "new": ("F", t.new_days),
            "active": ("A", t.active_days), "silent": ("A", t.churn_days)}.get(wanted)
