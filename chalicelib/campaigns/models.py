"""Campaign tables. Every key starts with the tenant id.

``campaigns`` (hash ``tenant_id``, range ``sk``) — definitions and their small companions:
- ``C#<campaign>``            the campaign (audience, message, channel, schedule, caps, quiet hours,
                              and ``due_key`` of its pending schedule item)
- ``R#<campaign>#<run>``      a run: trigger, the message snapshot senders use, audience size,
                              recipients queued, dispatch progress, ``updated_at`` (last dispatch
                              step) and ``lease_until`` (when the tick next checks it for stalls)
- ``E#<event type>#<campaign>`` trigger index of an active ``after_event`` campaign
- ``CFG``                     the tenant's messaging defaults (caps, quiet hours)
- ``X#<bucket>``              unsubscribed user ids (64 string-set buckets; atomic ADD/DELETE)
  Access: GetItem; Query ``begins_with(C#)`` (list), ``begins_with(R#<campaign>#)`` (runs),
  ``begins_with(E#<type>#)`` (campaigns a user event triggers).

``campaign_batches`` (hash ``pk`` = ``<tenant>#<campaign>``, range ``sk``) — fan-out state:
- ``P#<run>#<page>``          a dispatch page: the recipient ids it resolved (so a replayed dispatch
                              re-enqueues exactly the same batches)
- ``B#<run>#<batch>``         a recipient batch: its fixed user ids and one row per recipient
                              (status, reason, time, click) — the delivery records; ``rev`` guards
                              every write (optimistic concurrency, inside transactions)
- ``S#<run>#<shard>``         stats counters (8 shards per run, written in the same transactions)
                              and ``last_at``, the epoch second of the shard's latest delivery write
  Access: GetItem; Query ``begins_with(B#…)`` (deliveries), ``begins_with(S#…)`` (stats).

``campaign_contacts`` (hash ``pk`` = ``<tenant>#<user>``) — one item per user: frequency counters
  ``d:<channel>:<day>`` / ``w:<channel>:<ISO week>`` (dynamic attributes) and ``b``, the batches
  that counted them; read with BatchGetItem and written with BatchWriteItem by the sender
  (see :mod:`chalicelib.campaigns.frequency`).

``campaign_due`` (hash ``shard`` "0".."3", range ``key`` = ``<epoch 10 digits>#<tenant>#…``) —
  everything that must happen at a time: scheduled fires, ``after_event`` sends, dispatches and
  batches deferred by quiet hours, and each run's lease check (``kind`` ``lease``: re-drive the run
  if it stalled, see :mod:`chalicelib.campaigns.redrive`). The minute tick Queries ``key <= now``
  per shard (no Scan).

The ``outbox`` table (messages of the outbox channel) belongs to :mod:`chalicelib.channels.models`.
"""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.db import BaseModel

STAT_SHARDS = 8
DUE_SHARDS = 4
COUNTERS = ("sent", "failed", "clicked", "clicks", "deferred")


class Campaign(BaseModel):
    class Meta:
        table_name = "campaigns"

    tenant_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    campaign_id = UnicodeAttribute(null=True)
    run_id = UnicodeAttribute(null=True)
    # campaign
    name = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    audience = JSONAttribute(null=True)
    message = JSONAttribute(null=True)
    channel = UnicodeAttribute(null=True)
    webhook_url = UnicodeAttribute(null=True)
    schedule = JSONAttribute(null=True)
    timezone = UnicodeAttribute(null=True)
    caps = JSONAttribute(null=True)
    quiet_hours = JSONAttribute(null=True)
    due_key = UnicodeAttribute(null=True)
    next_run_at = UTCDateTimeAttribute(null=True)
    fired = BooleanAttribute(null=True)
    last_run_id = UnicodeAttribute(null=True)
    rev = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    # run
    trigger = UnicodeAttribute(null=True)
    snapshot = JSONAttribute(null=True)
    audience_size = NumberAttribute(null=True)
    queued = NumberAttribute(null=True)
    pages = NumberAttribute(null=True)
    dispatched = BooleanAttribute(null=True)
    deferred_until = UTCDateTimeAttribute(null=True)
    lease_until = UTCDateTimeAttribute(null=True)
    redrives = NumberAttribute(null=True)
    # trigger index
    event_type = UnicodeAttribute(null=True)
    delay_minutes = NumberAttribute(null=True)
    # tenant messaging defaults
    settings = JSONAttribute(null=True)
    # unsubscribe buckets (X#<bucket>): user ids
    unsubscribed = UnicodeSetAttribute(null=True)

    @staticmethod
    def campaign_key(campaign_id: str) -> str:
        return f"C#{campaign_id}"

    @staticmethod
    def run_key(campaign_id: str, run_id: str = "") -> str:
        return f"R#{campaign_id}#{run_id}"

    @staticmethod
    def trigger_key(event_type: str, campaign_id: str = "") -> str:
        return f"E#{event_type}#{campaign_id}"

    @staticmethod
    def campaign_prefix() -> str:
        return "C#"

    @staticmethod
    def settings_key() -> str:
        return "CFG"

    @staticmethod
    def unsub_key(bucket: int) -> str:
        return f"X#{bucket:02d}"

    @staticmethod
    def unsub_bucket(sk: str) -> int:
        return int(sk[2:])

    @staticmethod
    def key_dict(tenant_id: str, sk: str) -> dict:
        """The item key in DynamoDB JSON (BatchGetItem)."""
        return {"tenant_id": {"S": tenant_id}, "sk": {"S": sk}}


class CampaignBatch(BaseModel):
    class Meta:
        table_name = "campaign_batches"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    users = JSONAttribute(null=True)
    rows = JSONAttribute(null=True)
    rev = NumberAttribute(null=True)
    next_after = UnicodeAttribute(null=True)
    more = BooleanAttribute(null=True)
    sent = NumberAttribute(null=True)
    failed = NumberAttribute(null=True)
    clicked = NumberAttribute(null=True)
    clicks = NumberAttribute(null=True)
    deferred = NumberAttribute(null=True)
    last_at = NumberAttribute(null=True)  # stats shards: epoch second of the latest delivery write
    skip_capped_day = NumberAttribute(null=True)  # one counter per rules.SKIP_REASONS
    skip_capped_week = NumberAttribute(null=True)
    skip_unsubscribed = NumberAttribute(null=True)
    skip_no_identity_for_channel = NumberAttribute(null=True)
    skip_not_in_audience = NumberAttribute(null=True)
    skip_user_not_found = NumberAttribute(null=True)
    skip_campaign_paused = NumberAttribute(null=True)
    skip_campaign_deleted = NumberAttribute(null=True)
    skip_pool_exhausted = NumberAttribute(null=True)
    skip_coupons_exhausted = NumberAttribute(null=True)

    @staticmethod
    def partition(tenant_id: str, campaign_id: str) -> str:
        return f"{tenant_id}#{campaign_id}"

    @staticmethod
    def batch_key(run_id: str, batch: str = "") -> str:
        return f"B#{run_id}#{batch}"

    @staticmethod
    def page_key(run_id: str, page: int) -> str:
        return f"P#{run_id}#{page:06d}"

    @staticmethod
    def stat_key(run_id: str, shard: int | str = "") -> str:
        return f"S#{run_id}#{shard}"

    @staticmethod
    def page_prefix(run_id: str) -> str:
        return f"P#{run_id}#"

    @staticmethod
    def batch_prefix(run_id: str | None = None) -> str:
        return CampaignBatch.batch_key(run_id) if run_id else "B#"

    @staticmethod
    def stat_prefix(run_id: str | None = None) -> str:
        return CampaignBatch.stat_key(run_id) if run_id else "S#"

    @staticmethod
    def prefix_end(prefix: str) -> str:
        """An upper bound of every key starting with ``prefix`` (a ``between`` resuming a query)."""
        return prefix + "~"

    @staticmethod
    def run_of(sk: str) -> str:
        """The run id of a page, batch or stats item key."""
        return sk.split("#")[1]

    @staticmethod
    def page_of(sk: str) -> int:
        """The page number of a page item key."""
        return int(sk.rsplit("#", 1)[1])

    @staticmethod
    def breaker_key(tenant_id: str, digest: str) -> dict:
        """A webhook endpoint's circuit-breaker item (DynamoDB JSON key)."""
        return {"pk": {"S": f"{tenant_id}#breaker"}, "sk": {"S": f"E#{digest}"}}

    @staticmethod
    def key_dict(pk: str, sk: str) -> dict:
        return {"pk": {"S": pk}, "sk": {"S": sk}}


class Contact(BaseModel):
    class Meta:
        table_name = "campaign_contacts"

    pk = UnicodeAttribute(hash_key=True)

    @staticmethod
    def key(tenant_id: str, user_id: str) -> str:
        return f"{tenant_id}#{user_id}"

    @staticmethod
    def key_dict(tenant_id: str, user_id: str) -> dict:
        return {"pk": {"S": Contact.key(tenant_id, user_id)}}

    @staticmethod
    def day_attr(channel: str, day: str) -> str:
        return f"d:{channel}:{day}"

    @staticmethod
    def week_attr(channel: str, week: str) -> str:
        return f"w:{channel}:{week}"

    MARKERS_ATTR = "b"  # the batches that counted this user (a replay counts nobody twice)


class DueItem(BaseModel):
    class Meta:
        table_name = "campaign_due"

    shard = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # fire | event | dispatch | batch | lease
    user_id = UnicodeAttribute(null=True)
    body = JSONAttribute(null=True)

    @staticmethod
    def build_key(epoch: int, tenant_id: str, campaign_id: str, what: str) -> str:
        return f"{epoch:010d}#{tenant_id}#{campaign_id}#{what}"

    @staticmethod
    def upper_bound(epoch: int) -> str:
        """Every key due at or before ``epoch``."""
        return f"{epoch:010d}#~"

    @staticmethod
    def epoch_of(key: str) -> int:
        return int(key.split("#", 1)[0])
