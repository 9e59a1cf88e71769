"""The audience table: users, their identities, and the index items audiences resolve from.

One partition per tenant (``tenant_id``); the sort key says what an item is:

- ``U#<user>``                 the user: identities, tags by source, interest weights, activity times
- ``I#<kind>#<value>``         identity → user (written with attribute_not_exists: one user each)
- ``T#<tag>#<user>``           tag posting: the users holding a tag, in user id order. A posting
                               is *sure* (the user holds the tag) unless it carries ``unsure``:
                               postings are written and deleted in the transaction that changes the
                               user's tags, and the one change that cannot do that — a merge — marks
                               the postings it touches ``unsure`` first (see ``identities._merge``)
- ``A#<day>#<user>``           activity bucket: the user did something on that (UTC) day
- ``F#<day>#<user>``           first-seen bucket; ``P#<day>#<user>`` paid bucket
- ``E#<user>#<at>#<rand>``     event log (for the profile and for merges)
- ``M#<user>``                 merged-away tombstone index
- ``CFG``                      the tenant's stage thresholds

Access patterns:
- GetItem ``U#``/``I#``/``CFG``; BatchGet ``U#`` (audiences, campaign fan-out).
- Query ``begins_with(T#<tag>#)`` (users with a tag, id order), ``between(A#<from>, A#<to>~)``
  (users active in a window), ``begins_with(U#)`` (all users of the tenant, id order),
  ``begins_with(E#<user>#)`` (a user's events, newest first).
- Every event is one TransactWriteItems (user update + buckets + postings + log).
Bucket and event items carry ``expires`` (epoch seconds) for the table's TTL.
"""
from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.db import BaseModel


class AudienceItem(BaseModel):
    class Meta:
        table_name = "audience"

    tenant_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute(null=True)
    # users
    identities: MapAttribute = MapAttribute(null=True)
    other_identities = JSONAttribute(null=True)
    manual_tags = UnicodeSetAttribute(null=True)
    channel_tags = UnicodeSetAttribute(null=True)
    interests: MapAttribute = MapAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    first_seen_at = UTCDateTimeAttribute(null=True)
    last_active_at = UTCDateTimeAttribute(null=True)
    last_paid_at = UTCDateTimeAttribute(null=True)
    event_count = NumberAttribute(null=True)
    rev = NumberAttribute(null=True)
    merged_into = UnicodeAttribute(null=True)
    merged_from = UnicodeSetAttribute(null=True)
    # tag postings: set while a merge may leave the posting untrue (re-check the user)
    unsure = UnicodeAttribute(null=True)
    # events
    event_type = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute(null=True)
    properties = JSONAttribute(null=True)
    # config
    thresholds = JSONAttribute(null=True)
    expires = NumberAttribute(null=True)

    # Key builders: the only place that knows the sort key formats above.

    @classmethod
    def user_key(cls, user_id: str = "") -> str:
        """``U#<user>``; with no id, the prefix of every user item (the listing)."""
        return f"U#{user_id}"

    @classmethod
    def identity_key(cls, kind: str, value: str) -> str:
        return f"I#{kind}#{value}"

    @classmethod
    def identity_of(cls, sk: str) -> tuple[str, str]:
        """(kind, value) of an ``I#`` key."""
        _, kind, value = sk.split("#", 2)
        return kind, value

    @classmethod
    def tag_key(cls, tag: str, user_id: str = "") -> str:
        return f"T#{tag}#{user_id}"

    @classmethod
    def bucket_key(cls, kind: str, day: str, user_id: str = "") -> str:
        """``<kind>#<day>#<user>``: kind ``A`` (active), ``F`` (first seen) or ``P`` (paid)."""
        return f"{kind}#{day}#{user_id}"

    @classmethod
    def event_key(cls, user_id: str, at_iso: str = "", rand: str = "") -> str:
        return f"E#{user_id}#{at_iso}#{rand}" if at_iso else f"E#{user_id}#"

    @classmethod
    def merged_key(cls, user_id: str) -> str:
        return f"M#{user_id}"

    @classmethod
    def config_key(cls) -> str:
        return "CFG"
