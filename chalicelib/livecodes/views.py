"""What the API answers for a live code and its targets (JSON-ready dicts)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib import clock, media
from chalicelib.entry.service import entry_url
from chalicelib.livecodes import counters, routing
from chalicelib.livecodes.loading import Counts, rule_target, slug_for, to_rules
from chalicelib.livecodes.models import LiveCode, TargetMap
from chalicelib.settings import get_settings


def scan_url(code: LiveCode) -> str:
    return f"{get_settings().public_url}/s/{slug_for(code.tenant_id, code.code_id)}"


def target_status(t: TargetMap, now: datetime, counted: tuple[int, int] | None = None) -> str:
    rt = rule_target(t, counted)
    if not rt.enabled:
        return "disabled"
    if rt.expired(now):
        return "expired"
    if rt.capacity is not None and rt.assigned >= rt.capacity:
        return "full"
    return "full_today" if rt.full_today() else "active"


def counts(code: LiveCode, now: datetime) -> Counts:
    """Every target's (assigned, assigned today): its base plus its counter shards (one
    consistent BatchGetItem per 100 shards)."""
    targets = [*(code.targets or []), *([code.fallback] if code.fallback else [])]
    today = now.astimezone(ZoneInfo(code.timezone)).date().isoformat()
    shards = counters.read(code.tenant_id, code.code_id, targets)
    return {t.id: counters.totals(code.tenant_id, code.code_id, t, shards, today) for t in targets}


def target_view(t: TargetMap, now: datetime | None = None, counted: tuple[int, int] | None = None,
                code: LiveCode | None = None) -> dict:
    """A target as the API shows it; its counts are read unless given (``code``: the target's
    live code, for the read)."""
    now = now or clock.now()
    if counted is None and code is not None:
        counted = counts(code, now).get(t.id)
    assigned, today = counted if counted is not None else (int(t.assigned or 0), 0)
    return {"id": t.id, "kind": t.kind, "name": t.name, "image_url": media.public_url(t.image_key),
            "url": t.url, "capacity": None if t.capacity is None else int(t.capacity),
            "daily_capacity": None if t.daily_capacity is None else int(t.daily_capacity),
            "assigned": assigned, "assigned_today": today, "backup": bool(t.backup),
            "expires_at": t.expires_at.isoformat() if t.expires_at else None,
            "weight": int(t.weight if t.weight is not None else 1), "enabled": bool(t.enabled),
            "status": target_status(t, now, (assigned, today)),
            "created_at": t.created_at.isoformat(),
            "wecom": (t.extra or {}).get("wecom"),  # the 企业微信 way behind the target, if any
            "store": t.store}


def view(code: LiveCode) -> dict:
    now = clock.now()
    counted = counts(code, now)
    rules = to_rules(code, counted)
    base = f"{get_settings().public_url}/v1/livecodes/{code.code_id}"
    return {
        "id": code.code_id, "slug": slug_for(code.tenant_id, code.code_id), "name": code.name,
        "title": code.title,
        "channel": code.channel, "strategy": code.strategy, "timezone": code.timezone,
        "enabled": bool(code.enabled), "windows": code.windows or [],
        "warn_threshold": int(code.warn_threshold), "has_logo": bool(code.logo_key),
        "welcome": code.welcome, "tags": list(code.tags or []), "scan_url": scan_url(code),
        "entry_url": entry_url(code.tenant_id, code.code_id),
        "qr_url": f"{base}/qr",
        "targets": [target_view(t, now, counted.get(t.id)) for t in code.targets or []],
        "fallback": target_view(code.fallback, now, counted.get(code.fallback.id))
        if code.fallback else None,
        "remaining_capacity": routing.remaining_capacity(rules, now),
        "audience_rules": code.audience_rules or [], "experiment": code.experiment,
        "created_at": code.created_at.isoformat(), "updated_at": code.updated_at.isoformat(),
    }
