"""The event hooks table: a tenant's webhook subscriptions and the delivery log.

Keys: ``tenant_id`` / ``sk``:
- ``S#<subscription>``  a subscription: url, event types, sealed signing secret, enabled.
- ``D#<delivery>``      one delivery of one event to one subscription: status (pending |
                        delivered | failed), attempts, the last response status and error.
                        Delivery ids start with the event's time in milliseconds (sortable), so
                        a descending Query is newest first; the rest derives from the
                        subscription and the event's content, so a repeated event message maps to
                        the same delivery (written with ``attribute_not_exists``: sent once).

Access patterns:
- Query ``begins_with(S#)``: the tenant's subscriptions (the consumer caches them briefly).
- GetItem ``S#<id>`` / ``D#<id>``; UpdateItem a delivery after each attempt.
- Query ``begins_with(D#)`` descending (the log), optionally filtered on status.
- Query LSI ``subscription-index`` (``tenant_id``, ``sub_key`` = ``<subscription>#<delivery>``)
  descending: one subscription's log.
Deliveries carry ``expires`` (30 days) for the table's TTL.
"""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, LocalSecondaryIndex

from chalicelib.db import BaseModel


class SubscriptionIndex(LocalSecondaryIndex):
    class Meta:
        index_name = "subscription-index"
        projection = AllProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    sub_key = UnicodeAttribute(range_key=True)


class HookItem(BaseModel):
    class Meta:
        table_name = "event_hooks"

    tenant_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    # subscriptions
    subscription_id = UnicodeAttribute(null=True)
    url = UnicodeAttribute(null=True)
    events = UnicodeSetAttribute(null=True)
    description = UnicodeAttribute(null=True)
    secret_sealed = UnicodeAttribute(null=True)
    enabled = BooleanAttribute(null=True)
    include_imported = BooleanAttribute(null=True)  # also imported history (docs/events.md)
    updated_at = UTCDateTimeAttribute(null=True)
    # deliveries
    delivery_id = UnicodeAttribute(null=True)
    sub_key = UnicodeAttribute(null=True)
    event_type = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    attempts = NumberAttribute(null=True)
    response_status = NumberAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    delivered_at = UTCDateTimeAttribute(null=True)
    next_attempt_at = UTCDateTimeAttribute(null=True)
    lease = NumberAttribute(null=True)  # epoch seconds: the attempt in flight owns it until then
    created_at = UTCDateTimeAttribute()
    expires = TTLAttribute(null=True)
    subscription_index = SubscriptionIndex()

    @staticmethod
    def subscription_key(subscription_id: str = "") -> str:
        return f"S#{subscription_id}"

    @staticmethod
    def delivery_key(delivery_id: str = "") -> str:
        return f"D#{delivery_id}"

    @staticmethod
    def subscription_delivery_key(subscription_id: str, delivery_id: str = "") -> str:
        """``sub_key`` of a delivery (``subscription-index``); with no delivery: the prefix."""
        return f"{subscription_id}#{delivery_id}"

    @staticmethod
    def subscription_of(sub_key: str) -> str:
        return sub_key.split("#", 1)[0]
