"""The content table: items, their tag/type posting lists and list sizes.

Keys (``pk`` always starts with the tenant):
- ``<tenant>#A`` / ``<content id>``: the item itself. This partition doubles as the posting list of
  every item, so an unfiltered listing reads items directly.
- ``<tenant>#T#<tag>`` / ``<content id>``: posting of a tag; ``<tenant>#Y#<type>``: of a type.
  A posting carries the item's tags and type, so a query is filtered on postings and only the
  page's items are fetched.
- ``<tenant>#N`` / ``T#<tag>`` or ``Y#<type>``: how many items a list holds (``n``), read to pick the
  smallest list first. Counts are planner hints, kept by separate writes; a drifted count can only
  make a query read more, never answer wrongly.

Content ids are time-ordered (:func:`chalicelib.content.service.new_content_id`), so every list
sorted descending by ``sk`` is newest first.

Access patterns:
- GetItem / BatchGet ``<tenant>#A``; UpdateItem ADD counters (atomic).
- Query ``<tenant>#T#<tag>`` (or ``#Y#``, ``#A``) descending, ``sk < cursor``.
- BatchGet ``<tenant>#N`` list sizes.
- TransactWriteItems item + postings on create, update and delete.
"""
from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.db import BaseModel

COUNTERS = ("views", "clicks", "favorites", "shares")


class ContentItem(BaseModel):
    class Meta:
        table_name = "contents"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute(null=True)
    ctype = UnicodeAttribute(null=True)
    tags = ListAttribute[str](of=UnicodeAttribute, null=True)  # type: ignore[arg-type]  # PynamoDB types `of` as the element type; items are str
    title = UnicodeAttribute(null=True)
    body = UnicodeAttribute(null=True)
    url = UnicodeAttribute(null=True)
    media = JSONAttribute(null=True)
    card = JSONAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    views = NumberAttribute(null=True)
    clicks = NumberAttribute(null=True)
    favorites = NumberAttribute(null=True)
    shares = NumberAttribute(null=True)
    n = NumberAttribute(null=True)

    # Key builders: the only place that knows the key formats above.

    @classmethod
    def items_pk(cls, tenant_id: str) -> str:
        return f"{tenant_id}#A"

    @classmethod
    def tag_pk(cls, tenant_id: str, tag: str) -> str:
        return f"{tenant_id}#T#{tag}"

    @classmethod
    def type_pk(cls, tenant_id: str, ctype: str) -> str:
        return f"{tenant_id}#Y#{ctype}"

    @classmethod
    def list_pk(cls, tenant_id: str, kind: str, name: str = "") -> str:
        """The posting list a query plan names (:mod:`chalicelib.content.query`): ``("A", "")``
        all items, ``("T", tag)`` a tag's, ``("Y", type)`` a type's."""
        if kind == "A":
            return cls.items_pk(tenant_id)
        return cls.tag_pk(tenant_id, name) if kind == "T" else cls.type_pk(tenant_id, name)

    @classmethod
    def counts_pk(cls, tenant_id: str) -> str:
        return f"{tenant_id}#N"

    @classmethod
    def count_key(cls, kind: str, name: str) -> str:
        """A list's size item in the ``counts_pk`` partition: ``T#<tag>`` or ``Y#<type>``."""
        return f"{kind}#{name}"
