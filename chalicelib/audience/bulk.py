"""Bulk writes for imports: many new users per call, and past events that set history right.

New users (none of their identities known) are written as :func:`users.create_user` writes one
— the user item, its identity items, tag postings and day buckets — several users to a
TransactWriteItems (up to 100 items), the user and identity items with ``attribute_not_exists``.
A user's id is derived from the tenant and its identities, so a re-run or a retried chunk
computes the same items. The caller checks the identities right before (one consistent BatchGet
per 100); users whose identities are held go through ``identities.identify``, which attaches,
tags and merges as a live request would.

A live request may register one of those identities between that check and the write. Its
identity item then exists, the transaction is cancelled with that item's condition failed, and
:func:`create_users` writes the other users again without the ones whose condition failed (or
that met a concurrent transaction) and hands those back: the caller sends them through
``identify``, which finds the live user and attaches the row to it. No identity is re-pointed, no
person gets two users. The price: transactional writes cost twice the write units of a
BatchWriteItem of the same items.

A past event (:func:`record_past_event`) is keyed by its content (user, time, type, properties),
written once (``attribute_not_exists`` on the event item, in the transaction that counts it), and
moves the user's times as history says: ``first_seen_at`` back, ``last_active_at`` and
``last_paid_at`` forward only when it is earlier or later than what is stored, each with the day
bucket that lets audiences find the user by stage.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from chalicelib import clock, events
from chalicelib.audience import rules, store
from chalicelib.audience.identities import identify
from chalicelib.audience.models import AudienceItem as Item
from chalicelib.audience.views import user_tags
from chalicelib.db import condition_failed
from chalicelib.ids import ALPHABET


class NewUser(NamedTuple):
    identities: dict[str, str]
    tags: list[str]
    first_seen_at: datetime | None = None
    last_active_at: datetime | None = None
    last_paid_at: datetime | None = None


def derived_id(tenant_id: str, seed: str, length: int = rules.USER_ID_LEN) -> str:
    digest = hashlib.sha256(f"{tenant_id}\x00{seed}".encode()).digest()
    return "".join(ALPHABET[b % 32] for b in digest[:length])


def user_id_for(tenant_id: str, identities: dict[str, str]) -> str:
    return derived_id(tenant_id, json.dumps(sorted(identities.items())))


def owners(tenant_id: str, identity_pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Who holds each identity now (consistent BatchGet, 100 keys a call)."""
    keys = list(dict.fromkeys(identity_pairs))
    found: dict[tuple[str, str], str] = {}
    for i in range(0, len(keys), 100):
        batch = [(tenant_id, Item.identity_key(k, v)) for k, v in keys[i:i + 100]]
        for item in Item.batch_get(batch, consistent_read=True):
            _, kind, value = item.sk.split("#", 2)
            found[(kind, value)] = item.user_id
    return found


def _times(user: NewUser, now: datetime) -> tuple[datetime, datetime, datetime | None]:
    first = user.first_seen_at or min((t for t in (user.last_active_at, user.last_paid_at) if t),
                                      default=now)
    last = max(t for t in (first, user.last_active_at, user.last_paid_at) if t)
    return first, last, user.last_paid_at


class Planned(NamedTuple):
    """The items of one new user: the user item, its identity items (both written only if
    absent) and its index items (tag postings, day buckets). ``user_index``: the user's place in
    the ``create_users`` list (not ``index``, which would hide tuple.index)."""
    user_index: int
    record: Item
    identities: list[Item]
    index_items: list[Item]

    @property
    def size(self) -> int:
        return 1 + len(self.identities) + len(self.index_items)


def plan(tenant_id: str, user: NewUser, now: datetime, index: int = 0) -> Planned:
    user_id = user_id_for(tenant_id, user.identities)
    first, last, paid = _times(user, now)
    record = Item(tenant_id=tenant_id, sk=Item.user_key(user_id), user_id=user_id,
                  identities=dict(user.identities), interests={}, created_at=now,
                  first_seen_at=first, last_active_at=last, last_paid_at=paid, event_count=0,
                  rev=0, manual_tags=set(user.tags) or None)
    identities = [Item(tenant_id=tenant_id, sk=Item.identity_key(k, v), user_id=user_id,
                       created_at=now) for k, v in user.identities.items()]
    index_items = [store.posting(tenant_id, t, user_id) for t in user.tags]
    for kind, at in (("F", first), ("A", last), ("P", paid)):
        if at is not None and store.expires(at) > now.timestamp():
            index_items.append(store.bucket(tenant_id, kind, at, user_id))
    return Planned(index, record, identities, index_items)


TX_ITEMS = 100  # DynamoDB's limit of items in one TransactWriteItems
_RACED = ("ConditionalCheckFailed", "TransactionConflict")


def create_users(tenant_id: str, users: list[NewUser], now: datetime | None = None) -> list[int]:
    """Write users none of whose identities was held when the caller checked (:func:`owners`):
    the items ``create_user`` writes, several users to a transaction, the user and identity items
    only if absent. Returns the indexes of users that a concurrent write got to first (an identity
    registered meanwhile): the caller must send them through ``identify``."""
    now = now or clock.now()
    raced: list[int] = []
    group: list[Planned] = []
    for index, user in enumerate(users):
        planned = plan(tenant_id, user, now, index)
        if group and sum(p.size for p in group) + planned.size > TX_ITEMS:
            raced += _write_group(group)
            group = []
        group.append(planned)
    if group:
        raced += _write_group(group)
    return sorted(raced)


def _write_group(group: list[Planned]) -> list[int]:
    """One transaction for the group; when it is cancelled, the users whose items failed their
    condition (or met another transaction) are left out and the others written again."""
    raced: list[int] = []
    while group:
        try:
            with Item.transaction() as tx:
                for planned in group:
                    tx.save(planned.record, condition=Item.sk.does_not_exist())
                    for item in planned.identities:
                        tx.save(item, condition=Item.sk.does_not_exist())
                    for item in planned.index_items:
                        tx.save(item)
        except TransactWriteError as exc:
            lost = _cancelled_users(group, exc)
            if not lost:
                raise
            raced += lost
            group = [planned for planned in group if planned.user_index not in lost]
            continue
        return raced
    return raced


def _cancelled_users(group: list[Planned], exc: TransactWriteError) -> set[int]:
    """The users whose items the cancellation reasons name (one reason per item, in order)."""
    reasons = list(getattr(exc, "cancellation_reasons", None) or [])
    lost: set[int] = set()
    position = 0
    for planned in group:
        span = reasons[position:position + planned.size]
        position += planned.size
        if any(r is not None and r.code in _RACED for r in span):
            lost.add(planned.user_index)
    return lost


def unchanged(tenant_id: str, users: list[NewUser], owned: dict[tuple[str, str], str]) -> list[bool]:
    """Which users already match what is stored — one owner holding every identity and tag, and
    history no earlier or later than the row says — read with one BatchGet per 100 owners. Those
    need no write at all (a re-run of a file costs reads only)."""
    owner_ids = [{owned[p] for p in u.identities.items() if p in owned} for u in users]
    stored = store.batch_load(tenant_id, {uid for ids in owner_ids for uid in ids})
    now = clock.now()
    result = []
    for user, ids in zip(users, owner_ids, strict=True):
        item = stored.get(next(iter(ids))) if len(ids) == 1 else None
        result.append(item is not None and not item.merged_into and _holds(item, user)
                      and not _needs_times(item, user, now))
    return result


def _needs_times(item: Item, user: NewUser, now: datetime) -> bool:
    if not _has_times(user):
        return False
    first, last, paid = _times(user, now)
    return ((item.first_seen_at is None or item.first_seen_at > first)
            or (item.last_active_at is None or item.last_active_at < last)
            or (paid is not None and (item.last_paid_at is None or item.last_paid_at < paid)))


def apply_user(tenant_id: str, user: NewUser) -> bool:
    """Bring an existing user (found by an identity) up to the row: identities, tags, earlier
    history. Returns False when the user already matched the row (nothing written)."""
    owner_ids = set(owners(tenant_id, user.identities.items()).values())
    current = [store.load(tenant_id, uid) for uid in sorted(owner_ids)]
    if len({u.user_id for u in current}) == 1 and _holds(current[0], user):
        target = current[0]
        changed = False
    else:
        view, _ = identify(tenant_id, user.identities, user.tags)
        target = store.load(tenant_id, view["id"])
        changed = True
    first, last, paid = _times(user, clock.now()) if _has_times(user) else (None, None, None)
    if first is not None:
        changed |= move_first_seen(target, first)
    if last is not None or paid is not None:
        changed |= _move_forward(target, last, paid)
    return changed


def _has_times(user: NewUser) -> bool:
    return any((user.first_seen_at, user.last_active_at, user.last_paid_at))


def _holds(stored: Item, user: NewUser) -> bool:
    ids = stored.identities.as_dict() if stored.identities else {}
    others = {(o["kind"], o["value"]) for o in stored.other_identities or []}
    if any(ids.get(k) != v and (k, v) not in others for k, v in user.identities.items()):
        return False
    return set(user.tags) <= set(user_tags(stored))


def move_first_seen(user: Item, at: datetime) -> bool:
    """``first_seen_at`` back to ``at`` when that is earlier (with its ``F#`` bucket)."""
    if user.first_seen_at is not None and user.first_seen_at <= at:
        return False
    try:
        user.update(actions=[Item.first_seen_at.set(at), Item.rev.add(1)],
                    condition=Item.first_seen_at.does_not_exist() | (Item.first_seen_at > at))
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    if store.expires(at) > clock.now().timestamp():
        store.bucket(user.tenant_id, "F", at, user.user_id).save()
    return True


def _move_forward(user: Item, last: datetime | None, paid: datetime | None) -> bool:
    changed = False
    for attr, at, kind in ((Item.last_active_at, last, "A"), (Item.last_paid_at, paid, "P")):
        if at is None:
            continue
        stored = getattr(user, attr.attr_name)
        if stored is not None and stored >= at:
            continue
        try:
            user.update(actions=[attr.set(at), Item.rev.add(1)],
                        condition=attr.does_not_exist() | (attr < at))
        except UpdateError as exc:
            if condition_failed(exc):
                continue
            raise
        changed = True
        if store.expires(at) > clock.now().timestamp():
            store.bucket(user.tenant_id, kind, at, user.user_id).save()
    return changed


def event_suffix(event_type: str, at: datetime, properties: dict | None) -> str:
    raw = json.dumps([event_type, at.isoformat(), properties or {}], sort_keys=True,
                     ensure_ascii=False)
    return derived_id("event", raw, 6)


def record_past_event(tenant_id: str, user_id: str, event_type: str, at: datetime,
                      properties: dict | None = None) -> str | None:
    """Record an event that happened at ``at`` exactly once (keyed by its content); returns the
    id of the user it was recorded on (the survivor of any merge), or None when it was recorded
    before. Moves the user's history (see the module docstring). It publishes nothing itself: the
    import publishes what it recorded as history (:func:`event_message`)."""
    rules.check_event_type(event_type)
    suffix = event_suffix(event_type, at, properties)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for _ in range(store.MAX_MERGE_HOPS):
        user = store.load(tenant_id, user_id)
        key = Item.event_key(user.user_id, stamp, suffix)
        if _exists(tenant_id, key):
            return None
        puts = [Item(tenant_id=tenant_id, sk=key, user_id=user.user_id, event_type=event_type,
                     at=at, properties=properties or None, expires=store.expires(at))]
        live = store.expires(at) > clock.now().timestamp()
        if live:
            puts.append(store.bucket(tenant_id, "A", at, user.user_id))
            if event_type == "order_paid":
                puts.append(store.bucket(tenant_id, "P", at, user.user_id))
        try:
            with Item.transaction() as tx:
                tx.update(user, actions=[Item.event_count.add(1), Item.rev.add(1)],
                          condition=store.live_user())
                tx.save(puts[0], condition=Item.sk.does_not_exist())
                for item in puts[1:]:
                    tx.save(item)
        except TransactWriteError as exc:
            if condition_failed(exc):
                user_id = user.user_id
                continue  # merged or recorded meanwhile: read again
            raise
        user = store.load(tenant_id, user.user_id)
        move_first_seen(user, at)
        _move_forward(user, at, at if event_type == "order_paid" else None)
        return user.user_id
    return None


def event_message(tenant_id: str, user_id: str, event_type: str, at: datetime,
                  properties: dict | None, import_id: str) -> dict:
    """The events-queue message of an imported event: what ``activity.record_event`` publishes for
    a live one (its queue type, the well-known properties repeated flat), marked ``imported`` with
    the import's id, so only the history consumers take it (``history=True``, chalicelib/domain.py)."""
    props = properties or {}
    queue_type = events.AUDIENCE_TYPES.get(event_type, "user_event")
    flat = ({k: props[k] for k in rules.FLAT_FIELDS if k in props}
            if queue_type != "user_event" else {})
    return {"type": queue_type, **flat, "tenant_id": tenant_id, "user_id": user_id,
            "event_type": event_type, "at": at.isoformat(), "properties": props,
            "imported": True, "import_id": import_id}


def _exists(tenant_id: str, key: str) -> bool:
    try:
        Item.get(tenant_id, key, attributes_to_get=["sk"])
    except DoesNotExist:
        return False
    return True

