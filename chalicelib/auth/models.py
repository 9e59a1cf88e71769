"""Tenant and API key tables.

Access patterns:
- tenants: GetItem by tenant_id (auth, webhooks, public scans resolve the tenant from the slug);
  its ``owner_count`` is updated in the members' transactions.
- api_keys: GetItem (tenant_id, key_id) on every authenticated call (cached per container);
  Query tenant_id to list a tenant's keys.
"""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.db import BaseModel


class Tenant(BaseModel):
    class Meta:
        table_name = "tenants"

    tenant_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    webhook_url = UnicodeAttribute(null=True)
    webhook_secret = UnicodeAttribute(null=True)  # legacy plain text: sealed on first read
    webhook_secret_sealed = UnicodeAttribute(null=True)  # chalicelib.vault, "tenant.webhook_secret"
    timezone = UnicodeAttribute(default="Asia/Shanghai")
    # Active owner members: moved in the same transaction as the member it counts, with the
    # condition that it stays >= 1 once there is an owner (a tenant always keeps one).
    owner_count = NumberAttribute(null=True)


class ApiKey(BaseModel):
    class Meta:
        table_name = "api_keys"

    tenant_id = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute(range_key=True)
    secret_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    label = UnicodeAttribute(null=True)
    revoked = BooleanAttribute(default=False)
    role = UnicodeAttribute(null=True)  # owner | admin | operator | analyst; keys from before roles: admin
