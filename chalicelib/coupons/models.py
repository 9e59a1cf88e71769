"""The coupons table (hash ``tenant_id``, range ``sk``); every key starts with the tenant.

- ``P#<pool>``                   a pool: name, kind (``uploaded`` | ``generated``), the generated
                                 codes' pattern and key, ``size`` (codes it can issue), ``issued``
                                 and ``redeemed`` counters
- ``K#<pool>#<index>``           an uploaded code, by its issue order (index 0, 1, …)
- ``G#<pool>#<scope>#<person>``  a grant: the code a person got in a scope (``campaign:<id>``,
                                 ``fission:<task>``, ``journey:<id>:<step>``), its status
                                 (``issued`` | ``redeemed``) and times — at most one per key
- ``C#<code>``                   a code's owner: its pool and index (written with the upload, or
                                 with the grant of a generated code) and, once granted, its grant
                                 key — codes are unique per tenant, and a redemption finds its grant

Access: GetItem; Query ``begins_with(P#)`` (the pools). A grant is one TransactWriteItems: the pool's
``issued`` moved from n to n + 1 (conditional), the grant put if absent, the code's owner marked.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.db import BaseModel


class Coupon(BaseModel):
    class Meta:
        table_name = "coupons"

    tenant_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    pool_id = UnicodeAttribute(null=True)
    # pools
    name = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
    pattern = UnicodeAttribute(null=True)
    secret = UnicodeAttribute(null=True)
    size = NumberAttribute(null=True)
    issued = NumberAttribute(null=True)
    redeemed = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    # codes and grants
    code = UnicodeAttribute(null=True)
    index = NumberAttribute(null=True)
    grant = UnicodeAttribute(null=True)
    scope = UnicodeAttribute(null=True)
    person = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    granted_at = UTCDateTimeAttribute(null=True)
    redeemed_at = UTCDateTimeAttribute(null=True)

    @staticmethod
    def pool_key(pool_id: str = "") -> str:
        return f"P#{pool_id}"

    @staticmethod
    def code_key(pool_id: str, index: int) -> str:
        return f"K#{pool_id}#{index:08d}"

    @staticmethod
    def grant_key(pool_id: str, scope: str, person: str) -> str:
        return f"G#{pool_id}#{scope}#{person}"

    @staticmethod
    def owner_key(code: str) -> str:
        return f"C#{code}"
