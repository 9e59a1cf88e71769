"""Audience use cases: users and identities, tags, events, lifecycle stage, audiences, merges.

Invariants:
- An identity (kind, value) maps to exactly one user per tenant: its ``I#`` item is written with
  ``attribute_not_exists`` in the same transaction that creates or extends the user.
- Index items (tag postings, day buckets) are a superset of the truth: they are written in the same
  transaction as the user change, and an audience re-checks a candidate against the user item
  whenever the index cannot decide alone, so a stale index item can cost a read but never a wrong
  recipient.
- A tag posting without ``unsure`` is exact: the user holds the tag and is not merged away. Tags
  change in one transaction with their postings; a merge (whose postings do not fit that
  transaction) marks the postings it will falsify ``unsure`` before its transaction and settles them
  after it. So an audience of one tag (or of ``tags_any``) reads its posting lists and re-checks only
  the unsure postings' users: a campaign to 10,000 users reads 10,000 postings, not 10,000 users.
- Stage is computed on read from the user's times (:mod:`chalicelib.audience.stages`).

Merge rule (when identities reveal two users are one person): the user created first survives
(ties: the smaller id). The survivor gets the union of both users' manual and channel tags, the sum
of their interest weights, the earliest first-seen, the latest activity and payment, every identity
of the other user (where the survivor already has a value of that kind, the other value is kept in
``other_identities`` and still resolves to the survivor) and the other user's events. The other user
becomes a tombstone (``merged_into``) that every read follows.
"""
from __future__ import annotations

import heapq
import re
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib import events
from chalicelib import tags as tagrules
from chalicelib.audience import stages as stage_rules
from chalicelib.audience.criteria import Criteria, driver, postings_decide
from chalicelib.audience.models import AudienceItem as Item
from chalicelib.db import condition_failed
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.ids import is_id, new_id

IDENTITY_KINDS = ("openid", "unionid", "external_userid", "brand_user_id")
TAG_SOURCES = ("manual", "channel", "interest")
USER_ID_LEN = 12
RETENTION = timedelta(days=400)
MAX_MERGE_HOPS = 5
BATCH = 100
_IDENTITY_VALUE = re.compile(r"^[\x21-\x7e]{1,128}$")
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_.:-]{0,47}$")
_cfg_cache: dict[str, tuple[float, stage_rules.Thresholds]] = {}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# ---- input rules ------------------------------------------------------------------------------

def parse_identities(data: Any, field: str = "identities") -> dict[str, str]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationFailed(f"'{field}' must be an object", field=field)
    unknown = sorted(set(data) - set(IDENTITY_KINDS))
    if unknown:
        raise ValidationFailed(f"unknown identity kind {unknown[0]!r}; one of: "
                               f"{', '.join(IDENTITY_KINDS)}", code="invalid-identity", field=field)
    clean = {}
    for kind, value in data.items():
        if value is None:
            continue
        if not isinstance(value, str) or not _IDENTITY_VALUE.match(value):
            raise ValidationFailed(f"identity '{kind}' must be 1-128 printable ASCII characters",
                                   code="invalid-identity", field=f"{field}.{kind}")
        clean[kind] = value
    return clean


def check_event_type(value: Any) -> str:
    if not isinstance(value, str) or not _EVENT_TYPE.match(value):
        raise ValidationFailed("'type' must be 1-48 lower-case letters, digits or _ . : - "
                               "(e.g. order_paid)", code="invalid-event-type", field="type")
    return value


def channel_tag(channel: str) -> str:
    """The tag a live code's channel gives its scanners: ``channel:<channel>``."""
    cleaned = re.sub(r"[,#\s]+", "-", channel or "").strip("-") or "unknown"
    return tagrules.normalize(("channel:" + cleaned)[:tagrules.MAX_TAG_LEN])


# ---- thresholds -------------------------------------------------------------------------------

def get_thresholds(tenant_id: str, max_age: float = 30.0) -> stage_rules.Thresholds:
    hit = _cfg_cache.get(tenant_id)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    try:
        stored = Item.get(tenant_id, "CFG").thresholds or {}
        value = stage_rules.Thresholds(**stored)
    except DoesNotExist:
        value = stage_rules.Thresholds()
    _cfg_cache[tenant_id] = (time.monotonic() + max_age, value)
    return value


def set_thresholds(tenant_id: str, changes: dict) -> dict:
    value = stage_rules.Thresholds.from_input(changes, get_thresholds(tenant_id, max_age=0))
    Item(tenant_id=tenant_id, sk="CFG", thresholds=value.as_dict()).save()
    _cfg_cache.pop(tenant_id, None)
    return value.as_dict()


# ---- views ------------------------------------------------------------------------------------

def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def user_tags(user: Item) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for source, values in (("manual", user.manual_tags), ("channel", user.channel_tags)):
        for tag in values or ():
            found.setdefault(tag, {"sources": [], "weight": 0})["sources"].append(source)
    for tag, weight in (user.interests.as_dict() if user.interests else {}).items():
        entry = found.setdefault(tag, {"sources": [], "weight": 0})
        entry["sources"].append("interest")
        entry["weight"] = int(weight)
    return dict(sorted(found.items()))


def user_stage(user: Item, thresholds: stage_rules.Thresholds, now: datetime | None = None) -> str:
    today = stage_rules.day_of(now or utcnow())
    return stage_rules.stage(user.first_seen_at, user.last_active_at, user.last_paid_at, today,
                             thresholds)


def view(user: Item, thresholds: stage_rules.Thresholds, now: datetime | None = None) -> dict:
    tag_info = user_tags(user)
    return {
        "id": user.user_id, "identities": dict(user.identities.as_dict() if user.identities else {}),
        "other_identities": list(user.other_identities or []),
        "tags": list(tag_info), "tag_details": tag_info,
        "stage": user_stage(user, thresholds, now),
        "first_seen_at": _iso(user.first_seen_at), "last_active_at": _iso(user.last_active_at),
        "last_paid_at": _iso(user.last_paid_at), "event_count": int(user.event_count or 0),
        "merged_from": sorted(user.merged_from or []), "created_at": _iso(user.created_at),
    }


# ---- loading ----------------------------------------------------------------------------------

def _missing(user_id: str) -> NotFound:
    return NotFound(f"no such user: {user_id}", code="user-not-found")


def load(tenant_id: str, user_id: str) -> Item:
    """The live user (following merges), or NotFound."""
    for _ in range(MAX_MERGE_HOPS):
        if not isinstance(user_id, str) or not is_id(user_id, USER_ID_LEN):
            raise _missing(str(user_id)[:40])
        try:
            user = Item.get(tenant_id, Item.user_key(user_id), consistent_read=True)
        except DoesNotExist:
            raise _missing(user_id) from None
        if not user.merged_into:
            return user
        user_id = user.merged_into
    raise _missing(user_id)


def get_user(tenant_id: str, user_id: str) -> dict:
    return view(load(tenant_id, user_id), get_thresholds(tenant_id))


def _batch_load(tenant_id: str, user_ids: Iterable[str],
                attributes: list | None = None) -> dict[str, Item]:
    """User items by id, one BatchGet per 100; ``attributes`` (a projection, which must include
    ``user_id``) reads only those attributes."""
    wanted = list(dict.fromkeys(u for u in user_ids if isinstance(u, str) and is_id(u, USER_ID_LEN)))
    found: dict[str, Item] = {}
    for i in range(0, len(wanted), BATCH):
        keys = [(tenant_id, Item.user_key(u)) for u in wanted[i:i + BATCH]]
        for item in Item.batch_get(keys, attributes_to_get=attributes):
            found[item.user_id] = item
    return found


def get_users(tenant_id: str, user_ids: list[str]) -> dict[str, dict]:
    """Views by requested id (one BatchGet per 100 ids); a merged id answers its survivor;
    unknown ids are left out."""
    items = _batch_load(tenant_id, user_ids)
    thresholds = get_thresholds(tenant_id)
    result = {}
    for uid in user_ids:
        item = items.get(uid)
        if item is None:
            continue
        if item.merged_into:
            try:
                item = load(tenant_id, item.merged_into)
            except NotFound:
                continue
        result[uid] = view(item, thresholds)
    return result


def find_user_id(tenant_id: str, kind: str, value: str) -> str | None:
    if kind not in IDENTITY_KINDS:
        raise ValidationFailed(f"unknown identity kind {kind!r}", code="invalid-identity",
                               field="kind")
    try:
        return Item.get(tenant_id, Item.identity_key(kind, value), consistent_read=True).user_id
    except DoesNotExist:
        return None


def find_user(tenant_id: str, kind: str, value: str) -> dict | None:
    user_id = find_user_id(tenant_id, kind, value)
    if user_id is None:
        return None
    try:
        return get_user(tenant_id, user_id)
    except NotFound:
        return None


# ---- writes -----------------------------------------------------------------------------------

def _transaction() -> TransactWrite:
    return TransactWrite(connection=Item._get_connection().connection)


def _expires(at: datetime) -> int:
    return int((at + RETENTION).timestamp())


def _posting(tenant_id: str, tag: str, user_id: str, unsure: bool = False) -> Item:
    return Item(tenant_id=tenant_id, sk=Item.tag_key(tag, user_id), user_id=user_id,
                unsure="merge" if unsure else None)


def _bucket(tenant_id: str, kind: str, at: datetime, user_id: str) -> Item:
    day = stage_rules.day_of(at).isoformat()
    return Item(tenant_id=tenant_id, sk=Item.bucket_key(kind, day, user_id), user_id=user_id,
                expires=_expires(at))


def _live_user_condition() -> Any:
    return Item.sk.exists() & Item.merged_into.does_not_exist()


def create_user(tenant_id: str, identities: dict, tags: list[str] | None = None,
                now: datetime | None = None) -> dict:
    """A new user; Conflict (409 ``identity-taken``) when one of the identities already has one."""
    now = now or utcnow()
    identities = parse_identities(identities)
    clean_tags = tagrules.normalize_all(tags or [])
    user_id = new_id(USER_ID_LEN)
    user = Item(tenant_id=tenant_id, sk=Item.user_key(user_id), user_id=user_id,
                identities=identities, interests={}, created_at=now, first_seen_at=now,
                last_active_at=now, event_count=0, rev=0, manual_tags=set(clean_tags) or None)
    try:
        with _transaction() as tx:
            tx.save(user, condition=Item.sk.does_not_exist())
            for kind, value in identities.items():
                tx.save(Item(tenant_id=tenant_id, sk=Item.identity_key(kind, value), user_id=user_id,
                             created_at=now), condition=Item.sk.does_not_exist())
            for tag in clean_tags:
                tx.save(_posting(tenant_id, tag, user_id))
            tx.save(_bucket(tenant_id, "F", now, user_id))
            tx.save(_bucket(tenant_id, "A", now, user_id))
    except TransactWriteError as exc:
        if condition_failed(exc):
            raise Conflict("one of these identities already belongs to a user",
                           code="identity-taken", field="identities") from None
        raise
    return view(user, get_thresholds(tenant_id), now)


def identify(tenant_id: str, identities: dict, tags: list[str] | None = None,
             now: datetime | None = None) -> tuple[dict, bool]:
    """Find the user holding any of these identities (merging users the identities prove are one
    person), attach the identities they lack and add the tags; create the user when none holds any.
    Returns (user view, created). A returning user with nothing new costs two reads."""
    identities = parse_identities(identities)
    clean_tags = tagrules.normalize_all(tags or [])
    for _ in range(3):
        owners = _identity_owners(tenant_id, identities)
        if not owners:
            try:
                return create_user(tenant_id, identities, clean_tags, now), True
            except Conflict:
                continue  # someone registered one of them concurrently: resolve again
        survivor = owners[0]
        if len(owners) > 1:
            for other in owners[1:]:
                merge_users(tenant_id, survivor.user_id, other.user_id)
            survivor = load(tenant_id, survivor.user_id)
        try:
            changed = _attach(tenant_id, survivor, identities)
        except Conflict:
            continue
        if clean_tags:
            return tag_user(tenant_id, survivor.user_id, clean_tags), False
        if changed:
            return get_user(tenant_id, survivor.user_id), False
        return view(survivor, get_thresholds(tenant_id)), False
    raise Conflict("these identities are being changed concurrently; retry", code="identity-busy")


def _identity_owners(tenant_id: str, identities: dict[str, str]) -> list[Item]:
    """The live users holding any of the identities, oldest first (the merge survivor first)."""
    if not identities:
        return []
    keys = [(tenant_id, Item.identity_key(k, v)) for k, v in identities.items()]
    ids = {item.user_id for item in Item.batch_get(keys, consistent_read=True)}
    live = {}
    for uid in ids:
        try:
            user = load(tenant_id, uid)
        except NotFound:
            continue
        live[user.user_id] = user
    return sorted(live.values(), key=lambda u: (u.created_at, u.user_id))


def _attach(tenant_id: str, user: Item, identities: dict[str, str]) -> bool:
    """Give the user the identities it lacks; False when it already holds them all."""
    user_id = user.user_id
    current = user.identities.as_dict() if user.identities else {}
    others = list(user.other_identities or [])
    new = {k: v for k, v in identities.items()
           if current.get(k) != v and {"kind": k, "value": v} not in others}
    if not new:
        return False
    actions = []
    for kind, value in new.items():
        if kind in current:
            others.append({"kind": kind, "value": value})
        else:
            current[kind] = value
            actions.append(Item.identities[kind].set({"S": value}))
    actions.append(Item.other_identities.set(others) if others else Item.other_identities.remove())
    actions.append(Item.rev.add(1))
    try:
        with _transaction() as tx:
            tx.update(user, actions=actions, condition=_live_user_condition())
            for kind, value in new.items():
                tx.save(Item(tenant_id=tenant_id, sk=Item.identity_key(kind, value), user_id=user_id,
                             created_at=utcnow()), condition=Item.sk.does_not_exist())
    except TransactWriteError as exc:
        if condition_failed(exc):
            raise Conflict("an identity was registered concurrently", code="identity-taken") from None
        raise
    return True




def tag_user(tenant_id: str, user_id: str, tags: list[str], source: str = "manual") -> dict:
    """Add tags (one transaction: the user item and the tag postings); answers the user."""
    if source not in TAG_SOURCES:
        raise ValidationFailed(f"unknown tag source {source!r}", field="source")
    clean = tagrules.normalize_all(tags)
    if not clean:
        raise ValidationFailed("'tags' must hold at least one tag", field="tags")
    user = load(tenant_id, user_id)
    if source == "interest":
        actions = [_interest_add(tag, 1) for tag in clean]
    else:
        attr = Item.manual_tags if source == "manual" else Item.channel_tags
        actions = [attr.add(set(clean))]
    _write_user(user, actions, [_posting(tenant_id, t, user.user_id) for t in clean])
    return get_user(tenant_id, user.user_id)


def untag_user(tenant_id: str, user_id: str, tag: str) -> dict:
    """Remove a tag from the user whatever its source; NotFound when the user does not hold it."""
    clean = tagrules.normalize(tag, "tag")
    user = load(tenant_id, user_id)
    if clean not in user_tags(user):
        raise NotFound(f"the user has no tag {clean!r}", code="tag-not-found", field="tag")
    actions = [Item.manual_tags.delete({clean}), Item.channel_tags.delete({clean}),
               Item.interests[clean].remove(), Item.rev.add(1)]
    with _transaction() as tx:
        tx.update(user, actions=actions, condition=_live_user_condition())
        tx.delete(Item(tenant_id=tenant_id, sk=Item.tag_key(clean, user.user_id)))
    return get_user(tenant_id, user.user_id)


def _interest_add(tag: str, weight: int) -> Any:
    path = Item.interests[tag]
    return path.set((path | {"N": "0"}) + {"N": str(int(weight))})


def _write_user(user: Item, actions: list, puts: list[Item]) -> None:
    actions = [*actions, Item.rev.add(1)]
    try:
        with _transaction() as tx:
            tx.update(user, actions=actions, condition=_live_user_condition())
            for item in puts:
                tx.save(item)
    except TransactWriteError as exc:
        if condition_failed(exc):
            raise Conflict("the user was merged or deleted concurrently; retry",
                           code="user-changed") from None
        raise


_FLAT_FIELDS = ("staff", "channel", "code_id", "target_id", "state", "removed_by", "chat_id",
                "campaign_id", "run_id", "external_userid")


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
    now = utcnow()
    at = (at or now).astimezone(timezone.utc)
    if at > now + timedelta(minutes=5):
        raise ValidationFailed("'at' must not be in the future", field="at")
    interests = {tagrules.normalize(t): int(w) for t, w in (interests or {}).items() if int(w) > 0}
    channel = [tagrules.normalize(t) for t in channel_tags or []]
    for _ in range(MAX_MERGE_HOPS):
        try:
            _record(tenant_id, user_id, event_type, at, now, properties or {}, interests, channel)
            break
        except TransactWriteError as exc:
            if not condition_failed(exc):
                raise
            user_id = load(tenant_id, user_id).user_id  # merged meanwhile (or gone: NotFound)
    props = properties or {}
    queue_type = events.AUDIENCE_TYPES.get(event_type, "user_event")
    flat = {k: props[k] for k in _FLAT_FIELDS if k in props} if queue_type != "user_event" else {}
    events.publish(queue_type, {**flat, **(publish_extra or {}), "tenant_id": tenant_id,
                                "user_id": user_id, "event_type": event_type, "at": at.isoformat(),
                                "properties": props})


def _record(tenant_id: str, user_id: str, event_type: str, at: datetime, now: datetime,
            properties: dict, interests: dict[str, int], channel: list[str]) -> None:
    if not isinstance(user_id, str) or not is_id(user_id, USER_ID_LEN):
        raise _missing(str(user_id)[:40])
    user = Item(tenant_id=tenant_id, sk=Item.user_key(user_id))
    current = at >= now - timedelta(minutes=5)
    actions = [Item.event_count.add(1), Item.rev.add(1)]
    if current:
        actions.append(Item.last_active_at.set(at))
    actions += [_interest_add(tag, w) for tag, w in interests.items()]
    if channel:
        actions.append(Item.channel_tags.add(set(channel)))
    if event_type == "order_paid" and current:
        actions.append(Item.last_paid_at.set(at))
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    puts = [_bucket(tenant_id, "A", at, user_id),
            Item(tenant_id=tenant_id, sk=Item.event_key(user_id, stamp, new_id(6)), user_id=user_id,
                 event_type=event_type, at=at, properties=properties or None, expires=_expires(at))]
    if event_type == "order_paid":
        puts.append(_bucket(tenant_id, "P", at, user_id))
    puts += [_posting(tenant_id, t, user_id) for t in {*interests, *channel}]
    with _transaction() as tx:
        tx.update(user, actions=actions, condition=_live_user_condition())
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
    _bucket(tenant_id, "F", at, user.user_id).save()


def list_events(tenant_id: str, user_id: str, limit: int = 50) -> list[dict]:
    user = load(tenant_id, user_id)
    items = Item.query(tenant_id, Item.sk.startswith(Item.event_key(user.user_id)),
                       scan_index_forward=False, limit=limit)
    return [{"type": e.event_type, "at": _iso(e.at), "properties": e.properties or {}}
            for e in items]


# ---- merge ------------------------------------------------------------------------------------

def merge_users(tenant_id: str, first_id: str, second_id: str) -> dict:
    """Merge two users into one by the rule in the module docstring; answers the survivor."""
    for _ in range(3):
        a, b = load(tenant_id, first_id), load(tenant_id, second_id)
        if a.user_id == b.user_id:
            return get_user(tenant_id, a.user_id)
        keep, gone = sorted((a, b), key=lambda u: (u.created_at, u.user_id))
        try:
            _merge(tenant_id, keep, gone)
        except TransactWriteError as exc:
            if condition_failed(exc):
                continue  # one of them changed under us: read again
            raise
        _move_events(tenant_id, gone.user_id, keep.user_id)
        return get_user(tenant_id, keep.user_id)
    raise Conflict("the users are being changed concurrently; retry", code="user-changed")


def _merge(tenant_id: str, keep: Item, gone: Item) -> None:
    now = utcnow()
    kept_ids = keep.identities.as_dict() if keep.identities else {}
    others = list(keep.other_identities or [])
    gone_ids = list((gone.identities.as_dict() if gone.identities else {}).items())
    gone_ids += [(o["kind"], o["value"]) for o in gone.other_identities or []]
    actions = [Item.merged_from.add({gone.user_id, *(gone.merged_from or ())}),
               Item.event_count.add(int(gone.event_count or 0)), Item.rev.add(1)]
    for kind, value in gone_ids:
        if kind not in kept_ids:
            kept_ids[kind] = value
            actions.append(Item.identities[kind].set({"S": value}))
        elif kept_ids[kind] != value and {"kind": kind, "value": value} not in others:
            others.append({"kind": kind, "value": value})
    if others:
        actions.append(Item.other_identities.set(others))
    if gone.manual_tags:
        actions.append(Item.manual_tags.add(set(gone.manual_tags)))
    if gone.channel_tags:
        actions.append(Item.channel_tags.add(set(gone.channel_tags)))
    for tag, weight in (gone.interests.as_dict() if gone.interests else {}).items():
        actions.append(_interest_add(tag, int(weight)))
    for attr, pick in ((Item.first_seen_at, min), (Item.last_active_at, max),
                       (Item.last_paid_at, max)):
        values = [v for v in (getattr(keep, attr.attr_name), getattr(gone, attr.attr_name)) if v]
        if values:
            actions.append(attr.set(pick(values)))
    # Index items first, then the one transaction that makes the merge true, then the postings
    # settled. Before it: the survivor's new postings and all of the merged user's postings are
    # written unsure (a superset, each re-checked by audiences); a crash or a failed transaction
    # leaves them unsure, which costs reads, never a wrong recipient.
    held, gone_tags = set(user_tags(keep)), list(user_tags(gone))
    gained = [t for t in gone_tags if t not in held]
    puts = [_posting(tenant_id, t, keep.user_id, unsure=True) for t in gained]
    puts += [_posting(tenant_id, t, gone.user_id, unsure=True) for t in gone_tags]
    for kind, attr in (("F", gone.first_seen_at), ("A", gone.last_active_at),
                       ("P", gone.last_paid_at)):
        if attr:
            puts.append(_bucket(tenant_id, kind, attr, keep.user_id))
    with Item.batch_write() as batch:
        for item in puts:
            batch.save(item)
    with _transaction() as tx:
        tx.update(keep, actions=actions,
                  condition=_unchanged(keep) & Item.merged_into.does_not_exist())
        tx.update(gone, actions=[Item.merged_into.set(keep.user_id), Item.rev.add(1)],
                  condition=_unchanged(gone) & Item.merged_into.does_not_exist())
        tx.save(Item(tenant_id=tenant_id, sk=f"M#{gone.user_id}", user_id=gone.user_id,
                     merged_into=keep.user_id, created_at=now))
        for kind, value in gone_ids:
            tx.save(Item(tenant_id=tenant_id, sk=Item.identity_key(kind, value),
                         user_id=keep.user_id, created_at=now))
    for tag in gained:
        _settle_posting(tenant_id, tag, keep.user_id)
    with Item.batch_write() as batch:
        for tag in gone_tags:
            batch.delete(Item(tenant_id=tenant_id, sk=Item.tag_key(tag, gone.user_id)))


def _settle_posting(tenant_id: str, tag: str, user_id: str) -> None:
    """Make a merge's unsure posting sure — only while it is still there and still unsure: an
    untag since the merge deleted it (and must stay deleted), a tag write made it sure already."""
    try:
        _posting(tenant_id, tag, user_id).update(actions=[Item.unsure.remove()],
                                                 condition=Item.unsure.exists())
    except UpdateError as exc:
        if not condition_failed(exc):
            raise


def _unchanged(user: Item) -> Any:
    """The user item is still the revision we read (every user write adds 1 to ``rev``)."""
    return Item.rev == int(user.rev or 0)


def _move_events(tenant_id: str, from_id: str, to_id: str) -> None:
    prefix = Item.event_key(from_id)
    moved = list(Item.query(tenant_id, Item.sk.startswith(prefix)))
    with Item.batch_write() as batch:
        for e in moved:
            batch.save(Item(tenant_id=tenant_id, sk=Item.event_key(to_id) + e.sk[len(prefix):],
                            user_id=to_id, event_type=e.event_type, at=e.at,
                            properties=e.properties, expires=e.expires))
            batch.delete(e)


# ---- audiences --------------------------------------------------------------------------------

def iter_audience(tenant_id: str, tags_all: Iterable[str] = (), tags_any: Iterable[str] = (),
                  tags_none: Iterable[str] = (), stages: Iterable[str] = (),
                  after: str | None = None, limit: int | None = None) -> Iterator[str]:
    """Each matching user id exactly once, in id order, from index items (never a Scan). Criteria
    the tag postings decide alone (:func:`postings_decide`) are answered from the postings,
    re-checking only unsure ones; other criteria take candidates from a tag posting list, a union of
    them, day buckets or the user listing, each re-checked against the user item (one BatchGet per
    100 candidates, reading only what the re-check needs: see :func:`_recheck_attributes`).
    ``limit``, the most ids the caller takes,
    sizes the reads: index pages and re-check batches hold no more candidates than can still be
    yielded."""
    criteria = Criteria.build(tags_all, tags_any, tags_none, stages)
    if postings_decide(criteria):
        yield from _from_postings(tenant_id, criteria, after, limit)
        return
    for user in _matching(tenant_id, criteria, after, _recheck_attributes(criteria), limit):
        yield user.user_id


def _from_postings(tenant_id: str, criteria: Criteria, after: str | None,
                   limit: int | None) -> Iterator[str]:
    """Users from the driver posting lists alone (:func:`postings_decide` criteria): a sure
    posting is the answer; the users of unsure ones (a merge in flight or interrupted) are
    re-checked, one BatchGet per chunk that has any."""
    if limit is not None and limit <= 0:
        return
    _, tags = driver(criteria)
    page = None if limit is None else max(limit, 10 * BATCH)
    streams = [_postings(tenant_id, tag, after, page) for tag in tags]
    left = limit
    chunk: list[tuple[str, bool]] = []
    last = None

    def flush() -> Iterator[str]:
        nonlocal left
        doubtful = [uid for uid, unsure in chunk if unsure]
        found = _batch_load(tenant_id, doubtful, _recheck_attributes(criteria)) if doubtful else {}
        for uid, unsure in chunk:
            if unsure:
                user = found.get(uid)
                if user is None or user.merged_into or not criteria.matches(user_tags(user), ""):
                    continue
            yield uid
            if left is not None:
                left -= 1
                if left == 0:
                    break
        chunk.clear()

    # A user on several lists comes once, its sure posting first (False sorts first); a chunk is
    # flushed as soon as it is full, so a page is never read past the candidates it needs.
    for uid, unsure in heapq.merge(*streams):
        if uid == last:
            continue
        last = uid
        chunk.append((uid, unsure))
        if len(chunk) >= (BATCH if left is None else min(BATCH, left)):
            yield from flush()
            if left == 0:
                return
    yield from flush()


def _recheck_attributes(criteria: Criteria) -> list:
    """The projection an audience re-check reads: the id and merge state, the tag sets and the
    interest weights of the criteria's tags only (not the whole map), and the activity times only
    when stages are asked for. Identities, event counts, other tags' weights and the rest of a
    profile stay on the server: a fan-out to 10,000 users reads a fraction of their items."""
    attrs: list = [Item.user_id, Item.merged_into]
    tags = dict.fromkeys((*criteria.tags_all, *criteria.tags_any, *criteria.tags_none))
    if tags:
        attrs += [Item.manual_tags, Item.channel_tags, *(Item.interests[t] for t in tags)]
    if criteria.stages:
        attrs += [Item.first_seen_at, Item.last_active_at, Item.last_paid_at]
    return attrs


def _matching(tenant_id: str, criteria: Criteria, after: str | None,
              attributes: list | None = None, limit: int | None = None) -> Iterator[Item]:
    """Matching users in id order, at most ``limit``; with ``attributes`` the items hold only
    that projection."""
    if limit is not None and limit <= 0:
        return
    thresholds = get_thresholds(tenant_id)
    now = utcnow()
    chunk: list[str] = []
    # With a limit, a re-check batch holds the candidates still wanted plus as many as were
    # rejected so far (up to 100): the last batch of a page is not a full 100 read for one id.
    left, rejected = limit, 0
    page = None if limit is None else max(limit, 10 * BATCH)

    def flush() -> Iterator[Item]:
        nonlocal left, rejected
        found = _batch_load(tenant_id, chunk, attributes)
        for uid in chunk:
            user = found.get(uid)
            if user is not None and not user.merged_into and criteria.matches(
                    user_tags(user), user_stage(user, thresholds, now) if criteria.stages else ""):
                yield user
                if left is not None:
                    left -= 1
                    if left == 0:
                        break
            else:
                rejected += 1
        chunk.clear()

    for uid in _candidates(tenant_id, criteria, thresholds, now, after, page):
        chunk.append(uid)
        if len(chunk) >= (BATCH if left is None else min(BATCH, left + rejected)):
            yield from flush()
            if left == 0:
                return
    yield from flush()


def _candidates(tenant_id: str, criteria: Criteria, thresholds: stage_rules.Thresholds,
                now: datetime, after: str | None, page: int | None = None) -> Iterator[str]:
    """Candidate ids in id order; ``page`` caps each index Query page (the candidates the caller
    can use at most), so a dispatch page does not read a whole 1 MB page of postings."""
    kind, args = driver(criteria)
    if kind == "all":
        return _sorted_ids(tenant_id, "U#", after, page)
    if kind in ("tag", "any"):
        streams = [_sorted_ids(tenant_id, Item.tag_key(t), after, page) for t in args]
        return _dedupe(heapq.merge(*streams))
    return iter(sorted(_bucket_ids(tenant_id, args, thresholds, now, after)))


def _index_after(tenant_id: str, prefix: str, after: str | None, page: int | None,
                 attributes: list[str]) -> Iterator[Item]:
    """Index items under ``prefix`` in key order, past ``after`` (an id) when given."""
    cond = (Item.sk.between(prefix + after + "!", prefix + "~") if after
            else Item.sk.startswith(prefix))
    return Item.query(tenant_id, cond, attributes_to_get=attributes, page_size=page)


def _sorted_ids(tenant_id: str, prefix: str, after: str | None,
                page: int | None = None) -> Iterator[str]:
    for item in _index_after(tenant_id, prefix, after, page, ["sk"]):
        yield item.sk[len(prefix):]


def _postings(tenant_id: str, tag: str, after: str | None,
              page: int | None = None) -> Iterator[tuple[str, bool]]:
    """(user id, unsure) of a tag's postings in id order (see the module invariants)."""
    prefix = Item.tag_key(tag)
    for item in _index_after(tenant_id, prefix, after, page, ["sk", "unsure"]):
        yield item.sk[len(prefix):], item.unsure is not None


def _bucket_ids(tenant_id: str, wanted: Iterable[str], thresholds: stage_rules.Thresholds,
                now: datetime, after: str | None) -> set[str]:
    ids: set[str] = set()
    today = stage_rules.day_of(now)
    for name in wanted:
        kind, days = stage_rules.candidate_window(name, thresholds)
        first = (today - timedelta(days=days - 1)).isoformat()
        cond = Item.sk.between(f"{kind}#{first}#", f"{kind}#{today.isoformat()}#~")
        for item in Item.query(tenant_id, cond, attributes_to_get=["sk", "user_id"]):
            if after is None or item.user_id > after:
                ids.add(item.user_id)
    return ids


def _dedupe(ids: Iterable[str]) -> Iterator[str]:
    last = None
    for uid in ids:
        if uid != last:
            yield uid
        last = uid


def list_users(tenant_id: str, criteria: Criteria, limit: int,
               after: str | None) -> tuple[list[dict], str | None]:
    """One page of matching users in id order, and the last id when more may follow."""
    thresholds = get_thresholds(tenant_id)
    page, more = [], False
    for user in _matching(tenant_id, criteria, after, limit=limit + 1):
        if len(page) == limit:
            more = True
            break
        page.append(view(user, thresholds))
    return page, (page[-1]["id"] if more else None)


def clear_caches() -> None:
    _cfg_cache.clear()
