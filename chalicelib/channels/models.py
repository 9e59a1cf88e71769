"""The message channels' table.

``outbox`` (hash ``tenant_id``, range ``sk`` = ``<campaign>#<run>#<user>``) — messages delivered by
  the outbox channel (fission reward notices too: ``<task>#<participant>#<user>``, source
  ``fission_reward``). Access: Query (all, or ``begins_with(<campaign>#)``). TTL ``expires``.
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.db import BaseModel


class OutboxItem(BaseModel):
    class Meta:
        table_name = "outbox"

    tenant_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    campaign_id = UnicodeAttribute()
    run_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    text = UnicodeAttribute(null=True)
    content = JSONAttribute(null=True)
    source = UnicodeAttribute(null=True)  # null: a campaign; fission_reward: a reward notice
    created_at = UTCDateTimeAttribute()
    expires = NumberAttribute(null=True)

    @staticmethod
    def key(campaign_id: str, run_id: str = "", user_id: str = "") -> str:
        return f"{campaign_id}#{run_id}#{user_id}" if run_id else f"{campaign_id}#"

    @staticmethod
    def key_dict(tenant_id: str, sk: str) -> dict:
        """The item key in DynamoDB JSON (a query's start key)."""
        return {"tenant_id": {"S": tenant_id}, "sk": {"S": sk}}
