"""The outbox channel: a message is delivered by writing it to the ``outbox`` table (listed by
``GET /v1/outbox``), in the same BatchWriteItem calls as the recipients' counters. Its key
(campaign, run, user) makes a rewrite after a crash harmless: each recipient has one item."""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.channels import Delivery, Recipient
from chalicelib.channels.models import OutboxItem

IDEMPOTENT = True
NEEDS_PROFILE = False
IDENTITY = None
RETENTION = timedelta(days=90)


def item(delivery: Delivery, recipient: Recipient, now: datetime,
         source: str | None = None) -> OutboxItem:
    return OutboxItem(tenant_id=delivery.tenant_id,
                      sk=OutboxItem.key(delivery.campaign_id, delivery.run_id, recipient.user_id),
                      campaign_id=delivery.campaign_id, run_id=delivery.run_id,
                      user_id=recipient.user_id, text=recipient.text, content=recipient.content,
                      source=source, created_at=now, expires=int((now + RETENTION).timestamp()))


def requests(delivery: Delivery, recipient: Recipient, now: datetime) -> list[tuple[str, dict]]:
    put = item(delivery, recipient, now)
    return [(OutboxItem.table_name(), {"PutRequest": {"Item": put.serialize()}})]


def put(delivery: Delivery, recipient: Recipient, now: datetime, source: str | None = None) -> None:
    """One message outside a campaign run (e.g. a fission reward notice: campaign_id is the task,
    run_id the participant); a rewrite is harmless, as above."""
    item(delivery, recipient, now, source).save()
