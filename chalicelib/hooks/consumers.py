"""The events queue consumer that fans domain events out to webhook subscriptions (and the hooks
queue's sender, which :mod:`chalicelib.hooks.delivery` also uses for retries).

Declared in chalicelib/hooks/domain.py for every type in
:data:`chalicelib.hooks.service.EVENT_TYPES`. A tenant's subscriptions are read once per
``CACHE_SECONDS`` per container (one Query), not once per event. Each (event, subscription) pair
becomes one delivery: its log item (written once — the id derives from the event's time and
content, so a repeated event message finds it) and one message on the hooks queue, sent ten to a
SendMessageBatch. The hooks queue's consumer (:mod:`chalicelib.hooks.delivery`) posts it.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib import aws, clock
from chalicelib.db import condition_failed
from chalicelib.hooks.models import HookItem
from chalicelib.ids import ALPHABET
from chalicelib.settings import get_settings

CACHE_SECONDS = 30.0
RETENTION = timedelta(days=30)
_cache: dict[str, tuple[float, list[tuple[str, frozenset, bool]]]] = {}


def subscriptions(tenant_id: str) -> list[tuple[str, frozenset, bool]]:
    """(subscription id, event types, include imported history) of the tenant's enabled
    subscriptions, cached briefly."""
    hit = _cache.get(tenant_id)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    found = [(i.subscription_id, frozenset(i.events or ()), bool(i.include_imported))
             for i in HookItem.query(tenant_id, HookItem.sk.startswith(HookItem.subscription_key()),
                                     attributes_to_get=["subscription_id", "events", "enabled",
                                                        "include_imported"])
             if i.enabled]
    _cache[tenant_id] = (time.monotonic() + CACHE_SECONDS, found)
    return found


def clear_cache() -> None:
    _cache.clear()


def _event_time(event: dict) -> datetime:
    raw = event.get("at")
    try:
        at = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        if at.tzinfo is not None:
            return at
    except ValueError:
        pass
    return clock.now()


def delivery_id(subscription_id: str, event: dict, at: datetime) -> str:
    """9 characters of the event's milliseconds (sortable) and 7 of a digest of the subscription
    and the event: stable across repeated event messages and across retries."""
    ms = int(at.timestamp() * 1000)
    head = ""
    for _ in range(9):
        ms, digit = divmod(ms, 32)
        head = ALPHABET[digit] + head
    raw = json.dumps([subscription_id, event], sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(raw.encode()).digest()
    return head + "".join(ALPHABET[b % 32] for b in digest[:7])


def on_events(events: Iterable[dict]) -> None:
    messages = []
    for event in events:
        tenant_id = event.get("tenant_id")
        if not tenant_id:
            continue
        imported = bool(event.get("imported"))
        for sub_id, types, with_imported in subscriptions(tenant_id):
            if imported and not with_imported:
                continue  # history goes only where it was asked for
            if event.get("type") in types and _log(tenant_id, sub_id, event):
                messages.append(message(tenant_id, sub_id, event, 1))
    send(messages)


def _log(tenant_id: str, sub_id: str, event: dict) -> str | None:
    """Write the delivery's log item; answers its id when it must be (re-)queued."""
    at = _event_time(event)
    did = delivery_id(sub_id, event, at)
    now = clock.now()
    item = HookItem(tenant_id=tenant_id, sk=HookItem.delivery_key(did), delivery_id=did,
                    sub_key=HookItem.subscription_delivery_key(sub_id, did),
                    event_type=str(event.get("type")), status="pending", attempts=0,
                    created_at=now, expires=now + RETENTION)
    try:
        item.save(condition=HookItem.sk.does_not_exist())
    except PutError as exc:
        if not condition_failed(exc):
            raise
        try:  # the event came again: queue it again only if it was never attempted
            stored = HookItem.get(tenant_id, HookItem.delivery_key(did), consistent_read=True)
        except DoesNotExist:
            return None
        return did if stored.status == "pending" and not stored.attempts else None
    return did


def message(tenant_id: str, sub_id: str, event: dict, attempt: int) -> dict:
    return {"tenant_id": tenant_id, "subscription_id": sub_id,
            "delivery_id": delivery_id(sub_id, event, _event_time(event)), "attempt": attempt,
            "event": event}


def send(messages: list[dict], delay: int = 0) -> None:
    if not messages:
        return
    sqs = aws.client("sqs")
    url = aws.queue_url(get_settings().hooks_queue)
    for i in range(0, len(messages), 10):
        entries = [{"Id": str(n), "DelaySeconds": delay,
                    "MessageBody": json.dumps(m, ensure_ascii=False, default=str)}
                   for n, m in enumerate(messages[i:i + 10])]
        failed = sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed") or []
        if failed:
            raise RuntimeError(f"{len(failed)} webhook deliveries could not be queued")
