"""The mini-program integration of a tenant (its WeChat appid and app secret) and its links.

Access patterns: GetItem tenant_id on login (cached briefly per container); PutItem from
``PUT /v1/mp/settings``.
"""
from __future__ import annotations

import hashlib

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.db import BaseModel


class MpApp(BaseModel):
    class Meta:
        table_name = "mp_apps"

    tenant_id = UnicodeAttribute(hash_key=True)
    appid = UnicodeAttribute()
    secret = UnicodeAttribute(null=True)  # legacy plain text: sealed on first read
    secret_sealed = UnicodeAttribute(null=True)  # chalicelib.vault, purpose "mp.secret"
    updated_at = UTCDateTimeAttribute()


class MpLink(BaseModel):
    """A URL Link or URL Scheme WeChat generated, kept so a repeated request reuses it while
    enough of its life is left (``chalicelib.mp.codes``); DynamoDB's TTL removes it after expiry.

    Access patterns: GetItem (tenant_id, link_id), link_id = hash of (appid, type, page, query,
    env_version); PutItem after WeChat generated a new one.
    """
    class Meta:
        table_name = "mp_links"

    tenant_id = UnicodeAttribute(hash_key=True)
    link_id = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()  # url_link | scheme
    link = UnicodeAttribute()
    page = UnicodeAttribute(null=True)
    scene_query = UnicodeAttribute()  # (not "query": that is the Model class method)
    env_version = UnicodeAttribute()
    expires_at = UTCDateTimeAttribute()
    created_at = UTCDateTimeAttribute()
    expires = TTLAttribute(null=True)

    @staticmethod
    def key_for(appid: str, kind: str, page: str | None, query: str, env_version: str) -> str:
        return hashlib.sha256("|".join((appid, kind, page or "", query, env_version))
                              .encode()).hexdigest()[:32]
