"""Users: read (following merges), create, tag and untag.

Identity resolution and merges are in :mod:`chalicelib.audience.identities`; events in
:mod:`chalicelib.audience.activity`; the table's invariants in :mod:`chalicelib.audience.store`.
"""
from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib import clock
from chalicelib import tags as tagrules
from chalicelib.audience import store
from chalicelib.audience.models import AudienceItem as Item
from chalicelib.audience.rules import TAG_SOURCES, USER_ID_LEN, check_identity_kind, parse_identities
from chalicelib.audience.thresholds import get_thresholds
from chalicelib.audience.views import user_tags, view
from chalicelib.db import condition_failed
from chalicelib.error_codes import IDENTITY_TAKEN, TAG_NOT_FOUND, USER_CHANGED
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.ids import new_id

PROFILE = [Item.user_id, Item.merged_into, Item.identities, Item.other_identities,
           Item.manual_tags, Item.channel_tags, Item.interests, Item.first_seen_at,
           Item.last_active_at, Item.last_paid_at, Item.event_count, Item.created_at]

# ---- reads ------------------------------------------------------------------------------------

def get_user(tenant_id: str, user_id: str) -> dict:
    return view(store.load(tenant_id, user_id), get_thresholds(tenant_id))


def get_users(tenant_id: str, user_ids: list[str], contiguous: bool = False) -> dict[str, dict]:
    """Views by requested id (one BatchGet per 100 ids); a merged id answers its survivor;
    unknown ids are left out. ``contiguous``: the ids are a slice of the users in id order (a
    campaign batch), read with range Queries (:func:`store.range_load`) and only the attributes a
    view needs."""
    items = (store.range_load(tenant_id, user_ids, PROFILE) if contiguous
             else store.batch_load(tenant_id, user_ids))
    thresholds = get_thresholds(tenant_id)
    result = {}
    for uid in user_ids:
        item = items.get(uid)
        if item is None:
            continue
        if item.merged_into:
            try:
                item = store.load(tenant_id, item.merged_into)
            except NotFound:
                continue
        result[uid] = view(item, thresholds)
    return result


def find_user_id(tenant_id: str, kind: str, value: str) -> str | None:
    check_identity_kind(kind)
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

def create_user(tenant_id: str, identities: dict, tags: list[str] | None = None,
                now: datetime | None = None) -> dict:
    """A new user; Conflict (409 ``identity-taken``) when one of the identities already has one."""
    now = now or clock.now()
    identities = parse_identities(identities)
    clean_tags = tagrules.normalize_all(tags or [])
    user_id = new_id(USER_ID_LEN)
    user = Item(tenant_id=tenant_id, sk=Item.user_key(user_id), user_id=user_id,
                identities=identities, interests={}, created_at=now, first_seen_at=now,
                last_active_at=now, event_count=0, rev=0, manual_tags=set(clean_tags) or None)
    try:
        with Item.transaction() as tx:
            tx.save(user, condition=Item.sk.does_not_exist())
            for kind, value in identities.items():
                tx.save(Item(tenant_id=tenant_id, sk=Item.identity_key(kind, value), user_id=user_id,
                             created_at=now), condition=Item.sk.does_not_exist())
            for tag in clean_tags:
                tx.save(store.posting(tenant_id, tag, user_id))
            tx.save(store.bucket(tenant_id, "F", now, user_id))
            tx.save(store.bucket(tenant_id, "A", now, user_id))
    except TransactWriteError as exc:
        if condition_failed(exc):
            raise Conflict("one of these identities already belongs to a user",
                           code=IDENTITY_TAKEN, field="identities") from None
        raise
    return view(user, get_thresholds(tenant_id), now)


def tag_user(tenant_id: str, user_id: str, tags: list[str], source: str = "manual") -> dict:
    """Add tags (one transaction: the user item and the tag postings); answers the user."""
    if source not in TAG_SOURCES:
        raise ValidationFailed(f"unknown tag source {source!r}", field="source")
    clean = tagrules.normalize_all(tags)
    if not clean:
        raise ValidationFailed("'tags' must hold at least one tag", field="tags")
    user = store.load(tenant_id, user_id)
    if source == "interest":
        actions = [store.interest_add(tag, 1) for tag in clean]
    else:
        attr = Item.manual_tags if source == "manual" else Item.channel_tags
        actions = [attr.add(set(clean))]
    _write_user(user, actions, [store.posting(tenant_id, t, user.user_id) for t in clean])
    return get_user(tenant_id, user.user_id)


def untag_user(tenant_id: str, user_id: str, tag: str) -> dict:
    """Remove a tag from the user whatever its source; NotFound when the user does not hold it."""
    clean = tagrules.normalize(tag, "tag")
    user = store.load(tenant_id, user_id)
    if clean not in user_tags(user):
        raise NotFound(f"the user has no tag {clean!r}", code=TAG_NOT_FOUND, field="tag")
    actions = [Item.manual_tags.delete({clean}), Item.channel_tags.delete({clean}),
               Item.interests[clean].remove(), Item.rev.add(1)]
    with Item.transaction() as tx:
        tx.update(user, actions=actions, condition=store.live_user())
        tx.delete(Item(tenant_id=tenant_id, sk=Item.tag_key(clean, user.user_id)))
    return get_user(tenant_id, user.user_id)


def _write_user(user: Item, actions: list, puts: list[Item]) -> None:
    actions = [*actions, Item.rev.add(1)]
    try:
        with Item.transaction() as tx:
            tx.update(user, actions=actions, condition=store.live_user())
            for item in puts:
                tx.save(item)
    except TransactWriteError as exc:
        if condition_failed(exc):
            raise Conflict("the user was merged or deleted concurrently; retry",
                           code=USER_CHANGED) from None
        raise
