"""What the API answers for a live code and its targets (JSON-ready dicts)."""
from __future__ import annotations

from datetime import datetime

from chalicelib import clock, media
from chalicelib.entry.service import entry_url
from chalicelib.livecodes import routing
from chalicelib.livecodes.loading import rule_target, slug_for, to_rules
from chalicelib.livecodes.models import LiveCode, TargetMap
from chalicelib.settings import get_settings


def scan_url(code: LiveCode) -> str:
    return f"{get_settings().public_url}/s/{slug_for(code.tenant_id, code.code_id)}"


def target_status(t: TargetMap, now: datetime) -> str:
    rt = rule_target(t)
    if not rt.enabled:
        return "disabled"
    if rt.expired(now):
        return "expired"
    return "full" if rt.full() else "active"


def target_view(t: TargetMap, now: datetime | None = None) -> dict:
    now = now or clock.now()
    return {"id": t.id, "kind": t.kind, "name": t.name, "image_url": media.public_url(t.image_key),
            "url": t.url, "capacity": None if t.capacity is None else int(t.capacity),
            "assigned": int(t.assigned or 0),
            "expires_at": t.expires_at.isoformat() if t.expires_at else None,
            "weight": int(t.weight if t.weight is not None else 1), "enabled": bool(t.enabled),
            "status": target_status(t, now), "created_at": t.created_at.isoformat(),
            "wecom": (t.extra or {}).get("wecom")}  # the 企业微信 way behind the target, if any


def view(code: LiveCode) -> dict:
    now = clock.now()
    rules = to_rules(code)
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
        "targets": [target_view(t, now) for t in code.targets or []],
        "fallback": target_view(code.fallback, now) if code.fallback else None,
        "remaining_capacity": routing.remaining_capacity(rules, now),
        "created_at": code.created_at.isoformat(), "updated_at": code.updated_at.isoformat(),
    }
