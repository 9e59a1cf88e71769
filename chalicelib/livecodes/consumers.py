"""The live codes' event consumer (``scan``) and tick job: warn the operator (webhook) once per
condition: capacity running low, a target expiring soon.

Per SQS batch and code, not per scan: visitors placed on targets without capacity (the request
path wrote nothing for them) are added to their counters in one write per target; the capacity
check reads the code's counters only when a scan of the batch found nothing or its claim left its
shard with no more room than the code's ``warn_threshold`` (a shard's room is never above the
code's remaining capacity, so the scan that crosses the threshold always triggers the check).

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
from chalicelib.livecodes import cache, counters, routing
from chalicelib.livecodes.expiry import WARN_AHEAD, refresh_due
from chalicelib.livecodes.loading import load, to_rules
from chalicelib.livecodes.models import LiveCode
from chalicelib.livecodes.views import counts, target_view

log = logging.getLogger("yutang.warnings")


def count_unlimited(events: Iterable[dict]) -> None:
    """Visitors placed on targets without capacity (the request path wrote nothing for them): one
    ADD per target per batch (its own handler, so a failed warning never counts them twice)."""
    unlimited: dict[tuple[str, str], dict[str, int]] = {}
    for e in events:
        if not e.get("bot") and e.get("assigned") and e.get("claimed") is False and e.get("target_id"):
            per_target = unlimited.setdefault((e["tenant_id"], e["code_id"]), {})
            per_target[e["target_id"]] = per_target.get(e["target_id"], 0) + 1
    for (tenant_id, code_id), counts_ in unlimited.items():
        counters.add_unlimited(tenant_id, code_id, counts_)


def check_after_scans(events: Iterable[dict]) -> None:
    """The capacity warning, once per code of the batch that may have run low."""
    check: set[tuple[str, str]] = set()
    for e in events:
        if e.get("bot"):
            continue  # a bot claims nothing: capacity did not move
        if e.get("target_id") is None or (e.get("assigned") and _low(e)):
            check.add((e["tenant_id"], e["code_id"]))
    for tenant_id, code_id in sorted(check):
        _check_capacity(tenant_id, code_id)


def _low(e: dict) -> bool:
    """Whether this scan's claim may have crossed its code's warning threshold (events from before
    the counters carry no ``room``: checked as before)."""
    if "room" not in e:
        return True
    if e.get("room") is None:
        return False  # no lifetime capacity on the claimed target
    if e.get("warn_at") is not None:
        return int(e["room"]) <= int(e["warn_at"])
    try:
        code = cache.code(e["tenant_id"], e["code_id"])
    except NotFound:
        return False
    return int(e["room"]) <= int(code.warn_threshold)


def _check_capacity(tenant_id: str, code_id: str, now: datetime | None = None) -> None:
    now = now or clock.now()
    try:
        code = cache.code(tenant_id, code_id)
    except NotFound:
        return
    if routing.remaining_capacity(to_rules(code), now) is None:
        return  # an available target without capacity: never low
    remaining = routing.remaining_capacity(to_rules(code, counts(code, now)), now)
    if remaining is None or remaining > int(code.warn_threshold):
        return
    total = sum(int(t.capacity or 0) for t in code.targets or [] if t.enabled)
    key = LiveCode.capacity_warning_key(total)
    if key in (code.warned or set()):
        return  # warned already (a cached copy: at worst the conditional write below says so)
    code = load(tenant_id, code_id)
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
                "type": "livecode.target_expiring", "target": target_view(target, now, code=code)}, now)
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
