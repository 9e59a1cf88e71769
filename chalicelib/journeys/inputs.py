"""A journey's request body (pure): name, entry, re-entry rule, goal, timezone and steps."""
from __future__ import annotations

from typing import Any

from chalicelib import validate as v
from chalicelib.error_codes import INVALID_JOURNEY_ENTRY, INVALID_JOURNEY_REENTRY
from chalicelib.errors import ValidationFailed
from chalicelib.journeys import conditions, graph

REENTRY = ("never", "after_days", "always")
KEYS = {"name", "entry", "reentry", "goal", "timezone", "steps"}


def event_type(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 48:
        raise ValidationFailed(f"'{field}' must name an event type (e.g. order_paid)",
                               code=INVALID_JOURNEY_ENTRY, field=field)
    return conditions.alias(value)


def parse(body: dict, partial: bool = False) -> dict:
    """The clean definition; with ``partial`` only the keys given (a PATCH)."""
    v.only_keys(body, KEYS, "journey")
    out: dict[str, Any] = {}
    if not partial or "name" in body:
        out["name"] = v.text(body, "name", required=True, max_len=100)
    if not partial or "entry" in body:
        out["entry"] = parse_entry(body.get("entry"))
    if not partial or "reentry" in body:
        out["reentry"] = parse_reentry(body.get("reentry"))
    if not partial or "goal" in body:
        out["goal"] = parse_goal(body.get("goal"))
    if "timezone" in body:
        out["timezone"] = _timezone(body["timezone"])
    if not partial or "steps" in body:
        out["steps"] = graph.check_steps(body.get("steps"))
    return out


def parse_entry(value: Any) -> dict:
    if not isinstance(value, dict) or not value:
        raise ValidationFailed("'entry' must be {event}, {tag_added}, {stage_changed} or "
                               "{audience, schedule}", code=INVALID_JOURNEY_ENTRY, field="entry")
    if "event" in value:
        return {"event": event_type(value["event"], "entry.event")}
    if "tag_added" in value:
        return {"tag_added": v.text(value, "tag_added", required=True, max_len=64).lower()}
    if "stage_changed" in value:
        stage = value["stage_changed"]
        if stage not in conditions.STAGES:
            raise ValidationFailed(f"'entry.stage_changed' is one of: {', '.join(conditions.STAGES)}",
                                   code=INVALID_JOURNEY_ENTRY, field="entry.stage_changed")
        return {"stage_changed": stage}
    if "audience" in value:
        return _audience_entry(value)
    raise ValidationFailed("unknown entry; use event, tag_added, stage_changed or audience",
                           code=INVALID_JOURNEY_ENTRY, field="entry")


def _audience_entry(value: dict) -> dict:
    from chalicelib.campaigns import rules, schedule

    audience = rules.parse_audience(value.get("audience"))
    sched = value.get("schedule")
    if not isinstance(sched, dict) or not ({"at", "cron"} & set(sched)):
        raise ValidationFailed("an audience entry needs 'schedule': {at} or {cron}",
                               code=INVALID_JOURNEY_ENTRY, field="entry.schedule")
    if "cron" in sched:
        return {"audience": audience, "schedule": {"cron": schedule.parse_cron(sched["cron"])}}
    return {"audience": audience, "schedule": {"at": v.parse_time(sched["at"], "entry.schedule.at")
                                               .isoformat()}}


def parse_reentry(value: Any) -> dict:
    if value is None:
        return {"mode": "never"}
    mode = value.get("mode") if isinstance(value, dict) else None
    if mode not in REENTRY:
        raise ValidationFailed(f"'reentry.mode' is one of: {', '.join(REENTRY)}",
                               code=INVALID_JOURNEY_REENTRY, field="reentry.mode")
    if mode != "after_days":
        return {"mode": mode}
    days = v.integer(value, "days", required=True, lo=1, hi=3650)
    return {"mode": mode, "days": days}


def parse_goal(value: Any) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationFailed("'goal' must be {event} or null", field="goal")
    return {"event": event_type(value.get("event"), "goal.event")}


def _timezone(value: Any) -> str:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(str(value))
    except Exception:  # noqa: BLE001 - any unknown name
        raise ValidationFailed(f"unknown timezone {value!r}", field="timezone") from None
    return str(value)


def trigger_of(entry: dict) -> str | None:
    """The trigger index key part of an entry (None: entered by schedule)."""
    if "event" in entry:
        return f"event:{entry['event']}"
    if "tag_added" in entry:
        return f"tag:{entry['tag_added']}"
    if "stage_changed" in entry:
        return f"stage:{entry['stage_changed']}"
    return None
