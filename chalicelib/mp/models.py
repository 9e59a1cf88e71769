"""The mini-program integration of a tenant (its WeChat appid and app secret).

Access patterns: GetItem tenant_id on login (cached briefly per container); PutItem from
``PUT /v1/mp/settings``.
"""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.db import BaseModel


class MpApp(BaseModel):
    class Meta:
        table_name = "mp_apps"

    tenant_id = UnicodeAttribute(hash_key=True)
    appid = UnicodeAttribute()
    secret = UnicodeAttribute(null=True)  # legacy plain text: sealed on first read
    secret_sealed = UnicodeAttribute(null=True)  # chalicelib.vault, purpose "mp.secret"
    updated_at = UTCDateTimeAttribute()
