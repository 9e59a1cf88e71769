"""Asynchronous domain events: published to the events queue (here), dispatched by type to the
consumers the domains declare (:mod:`chalicelib.dispatcher`).

The request path only publishes (one SQS call); counting, warnings and referrals happen in the
consumers. Every package may import this module to publish; the dispatcher, which reads every
domain's declaration, is a separate module so that no import circle goes through publishing.
"""
from __future__ import annotations

import json
import logging

from chalicelib import aws
from chalicelib.settings import get_settings

log = logging.getLogger("yutang.events")

# The event types (docs/events.md). Which consumers each one reaches is declared by the domains
# (``consumers`` in chalicelib/<pkg>/domain.py, run by chalicelib/dispatcher.py); these name the
# groups some of them subscribe to.
# Counted by analytics (its daily counters):
COUNTED_TYPES = ("scan", "user_event", "staff_added", "customer_lost", "group_joined", "group_left",
                 "invite_counted", "reward_granted", "message_sent", "message_skipped",
                 "message_failed", "message_clicked", "order_paid", "agg_retry")
# The audience-backed events that also drive after_event campaigns:
USER_EVENT_TYPES = ("user_event", "staff_added", "customer_lost", "group_joined", "message_clicked",
                    "order_paid")
# The domain events a tenant can subscribe a webhook to (docs/events.md); each also goes to the
# webhook fan-out, which reads the tenant's subscriptions (cached) and queues the deliveries.
WEBHOOK_TYPES = ("scan", "staff_added", "customer_lost", "group_joined", "group_left",
                 "invite_counted", "reward_granted", "message_sent", "message_skipped",
                 "message_failed", "message_clicked", "order_paid")
# The queue type of an audience event (audience.record_event publishes under this type).
AUDIENCE_TYPES = {"joined_staff": "staff_added", "left_staff": "customer_lost",
                  "joined_group": "group_joined", "order_paid": "order_paid",
                  "campaign_clicked": "message_clicked"}


def publish(event_type: str, payload: dict) -> None:
    body = json.dumps({"type": event_type, **payload}, ensure_ascii=False, default=str)
    aws.client("sqs").send_message(QueueUrl=aws.queue_url(get_settings().events_queue),
                                   MessageBody=body)


def publish_many(event_type: str, payloads: list[dict]) -> None:
    """Several events of one type in SendMessageBatch calls of ten."""
    publish_typed([{"type": event_type, **p} for p in payloads])


def publish_typed(messages: list[dict]) -> None:
    """Events that carry their own ``type``, in SendMessageBatch calls of ten."""
    if not messages:
        return
    url = aws.queue_url(get_settings().events_queue)
    sqs = aws.client("sqs")
    for i in range(0, len(messages), 10):
        entries = [{"Id": str(n), "MessageBody": json.dumps(m, ensure_ascii=False, default=str)}
                   for n, m in enumerate(messages[i:i + 10])]
        failed = sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed") or []
        if failed:
            raise RuntimeError(f"{len(failed)} events could not be published: {failed[0]}")
