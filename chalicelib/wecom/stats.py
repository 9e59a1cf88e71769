"""企业微信 outcomes per live code: customers added, removed and group joins, per day and target.

The callback consumer ADDs ``wecom_adds``, ``wecom_dels``, ``wecom_group_joins`` and per-target
``tw_<target>`` (adds) / ``tg_<target>`` (group joins) to the same daily item the scan counters use
(``analytics`` ``stats`` table, ``LC#<code>#D#<day>``), so one Query answers a range.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib import clock
from chalicelib.analytics.service import MAX_RANGE_DAYS, code_days, parse_day
from chalicelib.errors import ValidationFailed

TOTALS = ("wecom_adds", "wecom_dels", "wecom_group_joins")


def livecode_stats(code, start: str | None, end: str | None, now: datetime | None = None) -> dict:
    tz = ZoneInfo(code.timezone)
    last = parse_day(end, "to", tz) or (now or clock.now()).astimezone(tz).date()
    first = parse_day(start, "from", tz) or last - timedelta(days=29)
    if first > last:
        raise ValidationFailed("'from' must not be after 'to'", field="from")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise ValidationFailed(f"a stats range covers at most {MAX_RANGE_DAYS} days", field="from")
    ids = [t.id for t in code.targets or []] + ([code.fallback.id] if code.fallback else [])
    per_target = {tid: {"id": tid, "adds": 0, "group_joins": 0} for tid in ids}
    totals = dict.fromkeys(TOTALS, 0)
    days = []
    for day_name, counters in code_days(code.tenant_id, code.code_id, first, last):
        day: dict[str, Any] = {"date": day_name, **{k: counters.get(k, 0) for k in TOTALS}}
        if not any(day[k] for k in TOTALS):
            continue
        days.append(day)
        for key in TOTALS:
            totals[key] += day[key]
        for key, value in counters.items():
            if key[:3] in ("tw_", "tg_"):
                entry = per_target.setdefault(key[3:], {"id": key[3:], "adds": 0, "group_joins": 0})
                entry["adds" if key[:3] == "tw_" else "group_joins"] += value
    return {"from": first.isoformat(), "to": last.isoformat(), "timezone": code.timezone,
            "adds": totals["wecom_adds"], "removals": totals["wecom_dels"],
            "group_joins": totals["wecom_group_joins"], "targets": list(per_target.values()),
            "days": days}

