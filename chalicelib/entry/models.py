"""A tenant's landing domains, in priority order: one item per tenant.

Access patterns:
- GetItem tenant_id, eventually consistent, cached per container for ≤ ``CACHE_SECONDS``: every
  entry redirect (``GET /e/{slug}``) — one read at most, whatever the number of domains.
- GetItem consistent + conditional PutItem on ``version``: the settings API changes the list.
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute

from chalicelib.db import BaseModel


class EntryDomains(BaseModel):
    class Meta:
        table_name = "entry_domains"

    tenant_id = UnicodeAttribute(hash_key=True)
    # [{domain, status: active|blocked, added_at, blocked_at}] in priority order (≤ MAX_DOMAINS)
    domains = JSONAttribute(default=list)
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()
