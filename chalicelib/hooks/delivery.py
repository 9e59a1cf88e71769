"""The hooks queue consumer: POST each delivery, signed, and retry with backoff.

The request: ``POST <url>`` with the JSON body ``{"id", "type", "created_at", "tenant_id",
"data": <the event>}`` and the headers of the operator warnings (:mod:`chalicelib.webhooks`):
``X-Yutang-Timestamp``, ``X-Yutang-Signature: sha256=<hex HMAC of "<timestamp>.<body>">`` with the
subscription's secret, ``X-Yutang-Event``; plus ``X-Yutang-Delivery: <id>`` — the same for every
attempt of one delivery, so a receiver that saw it already can answer 2xx and do nothing.

Attempt n (1-based) first claims the log item (``attempts`` from n - 1 to n, with a lease), so a
repeated SQS message of the same attempt posts nothing. A 2xx answer marks it delivered; anything
else (or no answer) queues attempt n + 1 with a delay of ``hook_retry_base_seconds × 2^(n-1)``
(≤ 900 s, SQS's limit) until MAX_ATTEMPTS, then marks it failed.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from chalicelib import clock, webhooks
from chalicelib.db import condition_failed
from chalicelib.errors import DomainError
from chalicelib.hooks import consumers, service
from chalicelib.hooks.models import HookItem
from chalicelib.settings import get_settings

log = logging.getLogger("yutang.hooks")
MAX_ATTEMPTS = 6
LEASE_SECONDS = 60
_subs: dict[tuple[str, str], tuple[float, HookItem | None]] = {}


def handle_messages(records: Iterable[Any]) -> None:
    for record in records:
        deliver(json.loads(record.body))


def _subscription(tenant_id: str, sub_id: str) -> HookItem | None:
    hit = _subs.get((tenant_id, sub_id))
    if hit and hit[0] > time.monotonic():
        return hit[1]
    try:
        item = service.load(tenant_id, sub_id)
    except DomainError:
        item = None
    _subs[(tenant_id, sub_id)] = (time.monotonic() + consumers.CACHE_SECONDS, item)
    return item


def clear_cache() -> None:
    _subs.clear()


def _claim(tenant_id: str, delivery_id: str, attempt: int) -> HookItem | None:
    now = int(time.time())
    item = HookItem(tenant_id=tenant_id, sk=HookItem.delivery_key(delivery_id))
    fresh = HookItem.attempts == attempt - 1
    stale = (HookItem.attempts == attempt) & (HookItem.lease < now)
    try:
        item.update(actions=[HookItem.attempts.set(attempt), HookItem.lease.set(now + LEASE_SECONDS)],
                    condition=HookItem.sk.exists() & (HookItem.status == "pending") & (fresh | stale))
    except UpdateError as exc:
        if condition_failed(exc):
            return None  # this attempt ran already (a repeated message) or the log expired
        raise
    return item


def deliver(msg: dict) -> None:
    tenant_id, sub_id, did = msg["tenant_id"], msg["subscription_id"], msg["delivery_id"]
    attempt = int(msg.get("attempt", 1))
    item = _claim(tenant_id, did, attempt)
    if item is None:
        return
    sub = _subscription(tenant_id, sub_id)
    if sub is None or not sub.enabled:
        _finish(item, "failed", None, "the subscription was deleted or disabled")
        return
    event = msg["event"]
    body = json.dumps({"id": did, "type": event.get("type"), "created_at": event.get("at"),
                       "tenant_id": tenant_id, "data": event}, ensure_ascii=False,
                      default=str).encode()
    status, error = None, None
    try:
        status = webhooks.post_signed(sub.url, service.secret_of(sub), body,
                                      str(event.get("type", "")), {"X-Yutang-Delivery": did})
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except DomainError as exc:  # unreachable, refused (a non-public address now)
        error = exc.message
    if error is None:
        _finish(item, "delivered", status, None)
        return
    if attempt >= MAX_ATTEMPTS:
        _finish(item, "failed", status, error)
        return
    delay = min(900, int(get_settings().hook_retry_base_seconds * 2 ** (attempt - 1)))
    consumers.send([{**msg, "attempt": attempt + 1}], delay=delay)
    item.update(actions=[HookItem.response_status.set(status) if status is not None
                         else HookItem.response_status.remove(),
                         HookItem.last_error.set(error[:500]), HookItem.lease.remove(),
                         HookItem.next_attempt_at.set(clock.now() + timedelta(seconds=delay))])


def _finish(item: HookItem, status: str, response: int | None, error: str | None) -> None:
    actions: list[Action] = [HookItem.status.set(status), HookItem.lease.remove(),
               HookItem.next_attempt_at.remove()]
    actions.append(HookItem.response_status.set(response) if response is not None
                   else HookItem.response_status.remove())
    actions.append(HookItem.last_error.set(error[:500]) if error else HookItem.last_error.remove())
    if status == "delivered":
        actions.append(HookItem.delivered_at.set(clock.now()))
    item.update(actions=actions)
