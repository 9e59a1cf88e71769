"""Insight read side: overview, live code funnel, channels, heatmap, content per day, alerts.

Every answer comes from the daily items the aggregator (:mod:`chalicelib.analytics.aggregate`)
keeps, read with one Query per answer (plus at most one GetItem for the code or content item and
the tenant, which is cached per container): never a Scan, never a read per event. Bots are left
out unless ``include_bots`` (their scans are added to ``scans``; they have no visitors).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib import clock
from chalicelib.analytics import aggregate
from chalicelib.analytics.models import DailyStats
from chalicelib.analytics.service import MAX_RANGE_DAYS, parse_day
from chalicelib.error_codes import UNSUPPORTED_TIMEZONE
from chalicelib.errors import ValidationFailed

METRICS = ("scans", "unique_visitors", "new_visitors", "bot_scans", "staff_added",
           "customers_lost", "net_added", "group_joined", "group_left", "invites", "rewards",
           "messages_sent", "messages_skipped", "messages_failed", "messages_clicked",
           "orders_paid", "content_views", "content_clicks")
CONTENT_FIELDS = ("views", "clicks", "favorites", "shares")
DEFAULT_DAYS = 7
MAX_WITHIN_DAYS = aggregate.MAX_LAG_DAYS
NEAR_CAPACITY = 0.9
EXPIRY_AHEAD = timedelta(hours=48)
FAILED_SENDS_DAYS = 7
PROBLEM_WINDOW = timedelta(days=1)


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


def date_range(start: str | None, end: str | None, tz_name: str, default_days: int,
               now: datetime | None = None) -> tuple[date, date]:
    tz = ZoneInfo(tz_name)
    today = _now(now).astimezone(tz).date()
    last = parse_day(end, "to", tz) or today
    first = parse_day(start, "from", tz) or last - timedelta(days=default_days - 1)
    if first > last:
        raise ValidationFailed("'from' must not be after 'to'", field="from")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise ValidationFailed(f"a range covers at most {MAX_RANGE_DAYS} days", field="from")
    return first, last


def _days(first: date, last: date) -> list[str]:
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def query_items(tenant_id: str, lo: str, hi: str) -> list[dict]:
    """Every item with lo <= sk <= hi, as plain dicts (numbers as int, string sets as sets)."""
    conn = DailyStats.table()
    rows: list[dict] = []
    start_key = None
    while True:
        page = conn.query(tenant_id, range_key_condition=DailyStats.sk.between(lo, hi),
                          exclusive_start_key=start_key)
        rows.extend(_plain(item) for item in page.get("Items", []))
        start_key = page.get("LastEvaluatedKey")
        if not start_key:
            return rows


def _plain(item: dict) -> dict:
    row: dict[str, Any] = {}
    for key, value in item.items():
        if "N" in value:
            row[key] = int(float(value["N"]))
        elif "SS" in value:
            row[key] = set(value["SS"])
        elif "S" in value:
            row[key] = value["S"]
    return row


def check_timezone(tz: str | None, tenant_tz: str, first: date, last: date) -> None:
    """Daily totals are kept in the tenant's timezone: ``tz`` may name it, or any zone whose days
    are the same over the range (e.g. Asia/Hong_Kong for Asia/Shanghai)."""
    if not tz or tz == tenant_tz:
        return
    try:
        asked = ZoneInfo(tz)
    except (ValueError, KeyError, OSError):
        raise ValidationFailed("'tz' must be an IANA timezone such as Asia/Shanghai",
                               field="tz") from None
    kept = ZoneInfo(tenant_tz)
    days = {first + timedelta(days=i) for i in range(0, (last - first).days + 1, 7)} | {first, last}
    for day in days:
        for hour in (0, 12):
            moment = datetime(day.year, day.month, day.day, hour, tzinfo=kept)
            if moment.utcoffset() != moment.astimezone(asked).utcoffset():
                raise ValidationFailed(
                    f"daily totals are kept in the tenant's timezone ({tenant_tz}); 'tz' must have "
                    f"the same days, or be left out", code=UNSUPPORTED_TIMEZONE, field="tz")


# ---- overview -----------------------------------------------------------------------------------

def _metrics(row: dict, include_bots: bool) -> dict:
    m = {k: int(row.get(k, 0)) for k in METRICS}
    m["net_added"] = m["staff_added"] - m["customers_lost"]
    if include_bots:
        m["scans"] += m["bot_scans"]
    return m


def _sum(rows: list[dict]) -> dict:
    total = dict.fromkeys(METRICS, 0)
    for r in rows:
        for k in METRICS:
            total[k] += r[k]
    return total


def overview(tenant_id: str, start: str | None, end: str | None, tz: str | None = None,
             include_bots: bool = False, now: datetime | None = None) -> dict:
    """Totals and days for the range, and the previous period of equal length: one Query."""
    tenant_tz = aggregate.tenant_timezone(tenant_id)
    first, last = date_range(start, end, tenant_tz, DEFAULT_DAYS, now)
    length = (last - first).days + 1
    prev_first, prev_last = first - timedelta(days=length), first - timedelta(days=1)
    check_timezone(tz, tenant_tz, prev_first, last)
    items = query_items(tenant_id, aggregate.tenant_day_key(prev_first.isoformat()),
                        aggregate.tenant_day_key(last.isoformat()))
    by_day = {r["sk"][3:]: _metrics(r, include_bots) for r in items}
    empty = _metrics({}, include_bots)
    days = [{"date": d, **by_day.get(d, empty)} for d in _days(first, last)]
    previous = [by_day.get(d, empty) for d in _days(prev_first, prev_last)]
    return {"from": first.isoformat(), "to": last.isoformat(), "timezone": tenant_tz,
            "include_bots": include_bots,
            "totals": _sum([{k: d[k] for k in METRICS} for d in days]),
            "previous": {"from": prev_first.isoformat(), "to": prev_last.isoformat(),
                         "totals": _sum(previous)},
            "days": days}


# ---- funnels ------------------------------------------------------------------------------------

def within(value: str | None) -> int:
    if value in (None, ""):
        return 7
    try:
        n = int(value)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_WITHIN_DAYS:
        raise ValidationFailed(f"'within_days' must be an integer from 1 to {MAX_WITHIN_DAYS}",
                               field="within_days")
    return n


def _converted(row: dict, days: int, suffix: str = "") -> int:
    return sum(int(row.get(f"cv{lag}{suffix}", 0)) for lag in range(days))


def livecode_funnel(code: Any, start: str | None, end: str | None, within_days: int,
                    include_bots: bool = False, now: datetime | None = None) -> dict:
    """scan → shown → added (企业微信 attribution) → converted within N days; per target."""
    first, last = date_range(start, end, code.timezone, 30, now)
    rows = query_items(code.tenant_id, DailyStats.code_day_key(code.code_id, first.isoformat()),
                       DailyStats.code_day_key(code.code_id, last.isoformat()))
    targets = list(code.targets or []) + ([code.fallback] if code.fallback else [])
    per = {t.id: {"id": t.id, "name": t.name, "kind": t.kind, "scan": 0, "shown": 0, "added": 0,
                  "converted": 0} for t in targets}
    steps = {"scan": 0, "shown": 0, "added": 0, "converted": 0}
    for r in rows:
        bots = int(r.get("bot_scans", 0)) if include_bots else 0
        scans = int(r.get("scans", 0))
        steps["scan"] += scans + bots
        steps["shown"] += scans - int(r.get("unavailable", 0)) + bots
        steps["added"] += int(r.get("wecom_adds", 0)) + int(r.get("wecom_group_joins", 0))
        steps["converted"] += _converted(r, within_days)
        for tid, entry in per.items():
            shown = int(r.get(f"ts_{tid}", 0)) + (int(r.get(f"bs_{tid}", 0)) if include_bots else 0)
            entry["scan"] += shown
            entry["shown"] += shown
            entry["added"] += int(r.get(f"tw_{tid}", 0)) + int(r.get(f"tg_{tid}", 0))
            entry["converted"] += _converted(r, within_days, f"_{tid}")
    return {"from": first.isoformat(), "to": last.isoformat(), "timezone": code.timezone,
            "within_days": within_days, "include_bots": include_bots,
            "steps": [{"key": k, "count": v} for k, v in steps.items()],
            "targets": list(per.values())}


def channels(tenant_id: str, start: str | None, end: str | None, within_days: int,
             include_bots: bool = False, now: datetime | None = None) -> dict:
    """The funnel per channel, side by side (channel-day items, tenant timezone): one Query."""
    tenant_tz = aggregate.tenant_timezone(tenant_id)
    first, last = date_range(start, end, tenant_tz, 30, now)
    rows = query_items(tenant_id, f"CD#{first.isoformat()}#", f"CD#{last.isoformat()}#\uffff")
    per: dict[str, dict] = {}
    for r in rows:
        channel = r["sk"].split("#", 2)[2]
        entry = per.setdefault(channel, {"channel": channel, "codes": set(), "scan": 0, "shown": 0,
                                         "added": 0, "converted": 0})
        bots = int(r.get("bot_scans", 0)) if include_bots else 0
        entry["codes"] |= r.get("codes", set())
        entry["scan"] += int(r.get("scan", 0)) + bots
        entry["shown"] += int(r.get("shown", 0)) + bots
        entry["added"] += int(r.get("added", 0))
        entry["converted"] += _converted(r, within_days)
    items = sorted(per.values(), key=lambda e: (-e["scan"], e["channel"]))
    for e in items:
        e["codes"] = len(e["codes"])
    return {"from": first.isoformat(), "to": last.isoformat(), "timezone": tenant_tz,
            "within_days": within_days, "include_bots": include_bots, "items": items}


def heatmap(tenant_id: str, code: Any | None, start: str | None, end: str | None,
            now: datetime | None = None) -> dict:
    """People's scans by weekday (rows Monday..Sunday) × hour of day, in the code's timezone
    (the tenant's for all codes): one Query."""
    tz = code.timezone if code is not None else aggregate.tenant_timezone(tenant_id)
    first, last = date_range(start, end, tz, 28, now)
    if code is not None:
        lo = DailyStats.code_day_key(code.code_id, first.isoformat())
        hi = DailyStats.code_day_key(code.code_id, last.isoformat())
    else:
        lo, hi = aggregate.tenant_day_key(first.isoformat()), aggregate.tenant_day_key(last.isoformat())
    matrix = [[0] * 24 for _ in range(7)]
    for r in query_items(tenant_id, lo, hi):
        weekday = date.fromisoformat(r["sk"].rsplit("#", 1)[1]).weekday()
        for hour in range(24):
            matrix[weekday][hour] += int(r.get(f"h{hour:02d}", 0))
    return {"from": first.isoformat(), "to": last.isoformat(), "timezone": tz,
            "code_id": code.code_id if code is not None else None, "matrix": matrix,
            "max": max(max(row) for row in matrix)}


# ---- content per day ----------------------------------------------------------------------------

def content_stats(tenant_id: str, content_id: str, start: str | None, end: str | None,
                  now: datetime | None = None) -> dict:
    """Views, clicks, favorites, shares and unique users per day (tenant timezone): one Query.
    ``totals.unique_users`` counts each user once over the whole range."""
    tenant_tz = aggregate.tenant_timezone(tenant_id)
    first, last = date_range(start, end, tenant_tz, 30, now)
    rows = query_items(tenant_id, aggregate.content_day_key(content_id, first.isoformat()),
                       aggregate.content_day_key(content_id, last.isoformat()))
    by_day = {r["sk"].rsplit("#", 1)[1]: r for r in rows}
    days: list[dict[str, Any]] = []
    users: set[str] = set()
    for d in _days(first, last):
        r = by_day.get(d, {})
        users |= r.get("u", set())
        days.append({"date": d, **{k: int(r.get(k, 0)) for k in CONTENT_FIELDS},
                     "unique_users": len(r.get("u", set()))})
    totals = {k: sum(day[k] for day in days) for k in CONTENT_FIELDS}
    totals["unique_users"] = len(users)
    return {"from": first.isoformat(), "to": last.isoformat(), "timezone": tenant_tz,
            "totals": totals, "days": days}


# ---- alerts -------------------------------------------------------------------------------------

def alerts(tenant_id: str, now: datetime | None = None) -> dict:
    """What needs the operator: expiring group QR images, full or nearly full targets, campaign
    runs with failed sends in the last 7 days, 企业微信 problems of the last day. Three Queries
    (the tenant's live codes; ``RF#`` failed-send items; ``WP#`` problem items), no Scan."""
    now = _now(now)
    items = _target_alerts(tenant_id, now)
    items += _send_alerts(tenant_id, now)
    items += _wecom_alerts(tenant_id, now)
    order = {"critical": 0, "warning": 1}
    items.sort(key=lambda a: (order[a["severity"]], a["at"]))
    return {"items": items}


def _target_alerts(tenant_id: str, now: datetime) -> list[dict]:
    from chalicelib.livecodes.models import LiveCode
    from chalicelib.livecodes.views import counts

    out = []
    for code in LiveCode.query(tenant_id):
        if not code.enabled:
            continue
        targets = list(code.targets or []) + ([code.fallback] if code.fallback else [])
        # visitors placed: the stored base plus the claim counters (one BatchGetItem per code)
        counted = counts(code, now) if any(t.capacity for t in targets if t.enabled) else {}
        for t in targets:
            if not t.enabled:
                continue
            obj = {"type": "target", "id": t.id, "name": t.name, "code_id": code.code_id,
                   "code_name": code.name}
            if t.expires_at is not None and t.expires_at <= now + EXPIRY_AHEAD:
                left = t.expires_at - now
                expired = left <= timedelta(0)
                out.append({"kind": "target_expiring",
                            "severity": "critical" if left < timedelta(hours=12) else "warning",
                            "message": (f"「{code.name}」的「{t.name}」二维码已过期" if expired else
                                        f"「{code.name}」的「{t.name}」二维码将在 "
                                        f"{max(1, int(left.total_seconds() // 3600))} 小时内过期"),
                            "object": obj, "at": t.expires_at.isoformat()})
            if t.capacity:
                assigned = counted.get(t.id, (int(t.assigned or 0), 0))[0]
                capacity = int(t.capacity)
                if assigned >= capacity:
                    out.append({"kind": "target_full", "severity": "critical",
                                "message": f"「{code.name}」的「{t.name}」已满 ({assigned}/{capacity})",
                                "object": obj, "at": now.isoformat()})
                elif assigned >= NEAR_CAPACITY * capacity:
                    out.append({"kind": "target_near_capacity", "severity": "warning",
                                "message": f"「{code.name}」的「{t.name}」接近上限 "
                                           f"({assigned}/{capacity})",
                                "object": obj, "at": now.isoformat()})
    return out


def _send_alerts(tenant_id: str, now: datetime) -> list[dict]:
    tz = ZoneInfo(aggregate.tenant_timezone(tenant_id))
    today = now.astimezone(tz).date()
    first = today - timedelta(days=FAILED_SENDS_DAYS - 1)
    runs: dict[tuple[str, str], dict] = {}
    for r in query_items(tenant_id, f"RF#{first.isoformat()}#", f"RF#{today.isoformat()}#\uffff"):
        _, day, campaign_id, run_id = r["sk"].split("#", 3)
        entry = runs.setdefault((campaign_id, run_id), {"failed": 0, "day": day, "name": ""})
        entry["failed"] += int(r.get("failed", 0))
        entry["day"] = max(entry["day"], day)
        entry["name"] = next(iter(sorted(r.get("name", set()) - {""})), entry["name"])
    out = []
    for (campaign_id, run_id), e in runs.items():
        if not e["failed"]:
            continue
        name = e["name"] or campaign_id
        out.append({"kind": "sends_failed", "severity": "warning",
                    "message": f"活动「{name}」有 {e['failed']} 条消息发送失败",
                    "object": {"type": "campaign", "id": campaign_id, "name": name,
                               "run_id": run_id, "failed": e["failed"]},
                    "at": datetime.combine(date.fromisoformat(e["day"]), time(), tz).isoformat()})
    return out


def _wecom_alerts(tenant_id: str, now: datetime) -> list[dict]:
    from chalicelib.analytics import problems

    out = []
    for r in query_items(tenant_id, "WP#", "WP#\uffff"):
        kind = r["sk"][3:]
        last = datetime.fromisoformat(r.get("last_at", "1970-01-01T00:00:00+00:00"))
        if now - last > PROBLEM_WINDOW or kind not in problems.KINDS:
            continue
        label = {"token": "企业微信凭据被拒绝（access_token 获取失败）",
                 "api": "企业微信接口调用失败", "callback": "企业微信回调处理失败"}[kind]
        out.append({"kind": "wecom_problem",
                    "severity": "critical" if kind == "token" else "warning",
                    "message": f"{label}：{r.get('message', '')}",
                    "object": {"type": "wecom_integration", "id": kind, "name": label,
                               "count": int(r.get("count", 0))},
                    "at": last.isoformat()})
    return out
