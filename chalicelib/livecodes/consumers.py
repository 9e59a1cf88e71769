"""The live codes' event consumer (``scan``) and tick job: warn the operator (webhook) once per
condition: capacity running low, a target expiring soon.

Each condition has a key kept in the code's ``warned`` set; a conditional ADD claims it, so
concurrent consumers send one warning. When the webhook fails the claim is released and the
error re-raised, so SQS (or the next tick) tries again: a warning may be late, never silently lost.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from pynamodb.exceptions import UpdateError

from chalicelib import clock, webhooks
from chalicelib.auth.service import get_tenant, webhook_secret
from chalicelib.db import condition_failed
from chalicelib.errors import NotFound
from chalicelib.livecodes import routing
from chalicelib.livecodes.expiry import WARN_AHEAD, refresh_due
from chalicelib.livecodes.loading import load, to_rules
from chalicelib.livecodes.models import LiveCode
from chalicelib.livecodes.views import target_view

log = logging.getLogger("yutang.warnings")


def check_after_scans(events: Iterable[dict]) -> None:
    for e in events:
        if e.get("bot"):
            continue  # a bot claims nothing: capacity did not move
        if e.get("assigned") or e.get("target_id") is None:
            _check_capacity(e["tenant_id"], e["code_id"])


def _check_capacity(tenant_id: str, code_id: str, now: datetime | None = None) -> None:
    now = now or clock.now()
    try:
        code = load(tenant_id, code_id)
    except NotFound:
        return
    remaining = routing.remaining_capacity(to_rules(code), now)
    if remaining is None or remaining > int(code.warn_threshold):
        return
    total = sum(int(t.capacity or 0) for t in code.targets or [] if t.enabled)
    key = LiveCode.capacity_warning_key(total)
    _warn_once(code, key, {"type": "livecode.capacity_low", "remaining": remaining,
                           "threshold": int(code.warn_threshold)}, now)


def check_expiring(now: datetime | None = None) -> int:
    """Scheduler tick: warn for targets expiring within 24 h; returns warnings sent."""
    now = now or clock.now()
    sent = 0
    for item in LiveCode.due_by(now):
        code = load(item.tenant_id, item.code_id)
        for t in routing.expiring_soon(to_rules(code), now, WARN_AHEAD):
            target = next(x for x in code.targets if x.id == t.id)
            sent += _warn_once(code, LiveCode.expiry_warning_key(target), {
                "type": "livecode.target_expiring", "target": target_view(target, now)}, now)
        refresh_due(code, now)  # each warning's update refreshed it
    return sent


def _warn_once(code: LiveCode, key: str, event: dict, now: datetime) -> int:
    tenant = get_tenant(code.tenant_id)
    try:
        code.update(actions=[LiveCode.warned.add({key})],
                    condition=LiveCode.warned.does_not_exist() | ~LiveCode.warned.contains(key))
    except UpdateError as exc:
        if condition_failed(exc):
            return 0  # already warned for this condition
        raise
    if not tenant.webhook_url:
        return 0  # nobody to tell; the condition still counts as handled
    payload = {**event, "tenant_id": code.tenant_id, "livecode_id": code.code_id,
               "livecode_name": code.name, "channel": code.channel, "at": now.isoformat(),
               "condition": key}
    try:
        webhooks.deliver(tenant.webhook_url, webhook_secret(tenant), payload)
    except Exception:
        code.update(actions=[LiveCode.warned.delete({key})])
        raise
    return 1
