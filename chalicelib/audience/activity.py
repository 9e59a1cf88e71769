"""Events users do (server-side events, content behaviour, scans): recorded on the user — activity
times that drive the lifecycle stage (:mod:`chalicelib.audience.stages`), interest and channel
tags, day buckets, the event log — and published to the events queue.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib import clock, events
from chalicelib import tags as tagrules
from chalicelib.audience import rules, store
from chalicelib.audience.models import AudienceItem as Item
from chalicelib.audience.rules import check_event_type
from chalicelib.audience.views import iso
from chalicelib.db import condition_failed
from chalicelib.errors import ValidationFailed
from chalicelib.ids import new_id

# How far a client clock may run ahead; an event older than this is late and only moves the
# user's times forward (a backfill), never back.
SKEW = timedelta(minutes=5)


def record_event(tenant_id: str, user_id: str, event_type: str, at: datetime | None = None,
                 properties: dict | None = None, *, interests: dict[str, int] | None = None,
                 channel_tags: list[str] | None = None, publish_extra: dict | None = None) -> None:
    """Record an event: one TransactWriteItems (user activity, interest weights and channel tags,
    day buckets, tag postings, the event log item), then one SQS publish of ``user_event`` — or,
    for the audience events that are domain events (``events.AUDIENCE_TYPES``: ``joined_staff`` →
    ``staff_added``, …, docs/events.md), of that type with the well-known properties repeated flat
    and ``publish_extra`` (fields only the queue needs, e.g. the code's day) added.

    ``interests`` maps tags to weights to add (content behaviour); ``channel_tags`` are added with
    source ``channel``. An event older than a few minutes moves the user's last activity only
    forward (one more conditional write).
    """
    check_event_type(event_type)
    now = clock.now()
    at = (at or now).astimezone(timezone.utc)
    if at > now + SKEW:
        raise ValidationFailed("'at' must not be in the future", field="at")
    interests = {tagrules.normalize(t): int(w) for t, w in (interests or {}).items() if int(w) > 0}
    channel = [tagrules.normalize(t) for t in channel_tags or []]
    for _ in range(store.MAX_MERGE_HOPS):
        try:
            _record(tenant_id, user_id, event_type, at, now, properties or {}, interests, channel)
            break
        except TransactWriteError as exc:
            if not condition_failed(exc):
                raise
            user_id = store.load(tenant_id, user_id).user_id  # merged meanwhile (or gone: NotFound)
    props = properties or {}
    queue_type = events.AUDIENCE_TYPES.get(event_type, "user_event")
    flat = {k: props[k] for k in rules.FLAT_FIELDS if k in props} if queue_type != "user_event" else {}
    events.publish(queue_type, {**flat, **(publish_extra or {}), "tenant_id": tenant_id,
                                "user_id": user_id, "event_type": event_type, "at": at.isoformat(),
                                "properties": props})


def _record(tenant_id: str, user_id: str, event_type: str, at: datetime, now: datetime,
            properties: dict, interests: dict[str, int], channel: list[str]) -> None:
    store.check_user_id(user_id)
    user = Item(tenant_id=tenant_id, sk=Item.user_key(user_id))
    current = at >= now - SKEW
    actions: list[Action] = [Item.event_count.add(1), Item.rev.add(1)]
    if current:
        actions.append(Item.last_active_at.set(at))
    actions += [store.interest_add(tag, w) for tag, w in interests.items()]
    if channel:
        actions.append(Item.channel_tags.add(set(channel)))
    if event_type == "order_paid" and current:
        actions.append(Item.last_paid_at.set(at))
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    puts = [store.bucket(tenant_id, "A", at, user_id),
            Item(tenant_id=tenant_id, sk=Item.event_key(user_id, stamp, new_id(6)), user_id=user_id,
                 event_type=event_type, at=at, properties=properties or None,
                 expires=store.expires(at))]
    if event_type == "order_paid":
        puts.append(store.bucket(tenant_id, "P", at, user_id))
    puts += [store.posting(tenant_id, t, user_id) for t in {*interests, *channel}]
    with Item.transaction() as tx:
        tx.update(user, actions=actions, condition=store.live_user())
        for item in puts:
            tx.save(item)
    if not current:
        _backdate(user, at, event_type == "order_paid")
        _first_seen(tenant_id, user, at)


def _backdate(user: Item, at: datetime, paid: bool) -> None:
    """Move last_active_at / last_paid_at forward to ``at`` only if it is later (a late event)."""
    for attr, wanted in ((Item.last_active_at, True), (Item.last_paid_at, paid)):
        if not wanted:
            continue
        try:
            user.update(actions=[attr.set(at), Item.rev.add(1)],
                        condition=attr.does_not_exist() | (attr < at))
        except UpdateError as exc:
            if not condition_failed(exc):
                raise


def _first_seen(tenant_id: str, user: Item, at: datetime) -> None:
    """A backfilled event older than the user's ``first_seen_at`` moves it back (an imported
    customer is not ``new``), with its first-seen day bucket (the later bucket stays: buckets are
    candidates, re-checked against the user item)."""
    try:
        user.update(actions=[Item.first_seen_at.set(at), Item.rev.add(1)],
                    condition=Item.first_seen_at.does_not_exist() | (Item.first_seen_at > at))
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        return
    store.bucket(tenant_id, "F", at, user.user_id).save()


def list_events(tenant_id: str, user_id: str, limit: int = 50) -> list[dict]:
    """The user's events, newest first (a merged id answers its survivor's)."""
    user = store.load(tenant_id, user_id)
    items = Item.query(tenant_id, Item.sk.startswith(Item.event_key(user.user_id)),
                       scan_index_forward=False, limit=limit)
    return [{"type": e.event_type, "at": iso(e.at), "properties": e.properties or {}}
            for e in items]
