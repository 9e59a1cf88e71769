"""企业微信 outcomes per live code: customers added, removed and group joins, per day and target.

The callback consumer ADDs ``wecom_adds``, ``wecom_dels``, ``wecom_group_joins`` and per-target
``tw_<target>`` (adds) / ``tg_<target>`` (group joins) to the same daily item the scan counters use
(``analytics`` ``stats`` table, ``LC#<code>#D#<day>``), so one Query answers a range.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from chalicelib.analytics.models import DailyStats
from chalicelib.analytics.service import MAX_RANGE_DAYS, parse_day
from chalicelib.errors import ValidationFailed

TOTALS = ("wecom_adds", "wecom_dels", "wecom_group_joins")


def livecode_stats(code, start: str | None, end: str | None, now: datetime | None = None) -> dict:
    tz = ZoneInfo(code.timezone)
    last = parse_day(end, "to", tz) or (now or datetime.now(timezone.utc)).astimezone(tz).date()
    first = parse_day(start, "from", tz) or last - timedelta(days=29)
    if first > last:
        raise ValidationFailed("'from' must not be after 'to'", field="from")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise ValidationFailed(f"a stats range covers at most {MAX_RANGE_DAYS} days", field="from")
    ids = [t.id for t in code.targets or []] + ([code.fallback.id] if code.fallback else [])
    per_target = {tid: {"id": tid, "adds": 0, "group_joins": 0} for tid in ids}
    totals = dict.fromkeys(TOTALS, 0)
    days = []
    for day_name, counters in _rows(code.tenant_id, code.code_id, first.isoformat(), last.isoformat()):
        day = {"date": day_name, **{k: counters.get(k, 0) for k in TOTALS}}
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


def _rows(tenant_id: str, code_id: str, first: str, last: str):
    """(day, counters) of the code's daily items, including the counters the model does not
    declare (raw items, as the analytics service reads them)."""
    conn = DailyStats._get_connection()
    condition = DailyStats.sk.between(DailyStats.code_day_key(code_id, first),
                                      DailyStats.code_day_key(code_id, last))
    start_key = None
    while True:
        page = conn.query(tenant_id, range_key_condition=condition, exclusive_start_key=start_key)
        for item in page.get("Items", []):
            yield item["sk"]["S"].rsplit("#", 1)[1], {k: int(v["N"]) for k, v in item.items()
                                                      if "N" in v}
        start_key = page.get("LastEvaluatedKey")
        if not start_key:
            return
