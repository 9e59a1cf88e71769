"""Identities: find the one person behind a set of identities, attach new ones, merge users.

Merge rule (when identities reveal two users are one person): the user created first survives
(ties: the smaller id). The survivor gets the union of both users' manual and channel tags, the sum
of their interest weights, the earliest first-seen, the latest activity and payment, every identity
of the other user (where the survivor already has a value of that kind, the other value is kept in
``other_identities`` and still resolves to the survivor) and the other user's events. The other user
becomes a tombstone (``merged_into``) that every read follows.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib import clock
from chalicelib import tags as tagrules
from chalicelib.audience import store
from chalicelib.audience.models import AudienceItem as Item
from chalicelib.audience.rules import parse_identities
from chalicelib.audience.thresholds import get_thresholds
from chalicelib.audience.users import create_user, get_user, tag_user
from chalicelib.audience.views import user_tags, view
from chalicelib.db import condition_failed
from chalicelib.error_codes import IDENTITY_BUSY, IDENTITY_TAKEN, USER_CHANGED
from chalicelib.errors import Conflict, NotFound


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
            survivor = store.load(tenant_id, survivor.user_id)
        try:
            changed = _attach(tenant_id, survivor, identities)
        except Conflict:
            continue
        if clean_tags:
            return tag_user(tenant_id, survivor.user_id, clean_tags), False
        if changed:
            return get_user(tenant_id, survivor.user_id), False
        return view(survivor, get_thresholds(tenant_id)), False
    raise Conflict("these identities are being changed concurrently; retry", code=IDENTITY_BUSY)


def _identity_owners(tenant_id: str, identities: dict[str, str]) -> list[Item]:
    """The live users holding any of the identities, oldest first (the merge survivor first)."""
    if not identities:
        return []
    keys = [(tenant_id, Item.identity_key(k, v)) for k, v in identities.items()]
    ids = {item.user_id for item in Item.batch_get(keys, consistent_read=True)}
    live = {}
    for uid in ids:
        try:
            user = store.load(tenant_id, uid)
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
        with Item.transaction() as tx:
            tx.update(user, actions=actions, condition=store.live_user())
            for kind, value in new.items():
                tx.save(Item(tenant_id=tenant_id, sk=Item.identity_key(kind, value), user_id=user_id,
                             created_at=clock.now()), condition=Item.sk.does_not_exist())
    except TransactWriteError as exc:
        if condition_failed(exc):
            raise Conflict("an identity was registered concurrently", code=IDENTITY_TAKEN) from None
        raise
    return True


# ---- merge ------------------------------------------------------------------------------------

def merge_users(tenant_id: str, first_id: str, second_id: str) -> dict:
    """Merge two users into one by the rule in the module docstring; answers the survivor."""
    for _ in range(3):
        a, b = store.load(tenant_id, first_id), store.load(tenant_id, second_id)
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
    raise Conflict("the users are being changed concurrently; retry", code=USER_CHANGED)


def _gone_identities(gone: Item) -> list[tuple[str, str]]:
    pairs = list((gone.identities.as_dict() if gone.identities else {}).items())
    return pairs + [(o["kind"], o["value"]) for o in gone.other_identities or []]


def _survivor_actions(keep: Item, gone: Item) -> list[Any]:
    """The update that gives the survivor everything of the merged-away user (the merge rule)."""
    kept_ids = keep.identities.as_dict() if keep.identities else {}
    others = list(keep.other_identities or [])
    actions: list[Action] = [Item.merged_from.add({gone.user_id, *(gone.merged_from or ())}),
               Item.event_count.add(int(gone.event_count or 0)), Item.rev.add(1)]
    for kind, value in _gone_identities(gone):
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
        actions.append(store.interest_add(tag, int(weight)))
    for attr, pick in ((Item.first_seen_at, min), (Item.last_active_at, max),
                       (Item.last_paid_at, max)):
        values = [v for v in (getattr(keep, attr.attr_name), getattr(gone, attr.attr_name)) if v]
        if values:
            actions.append(attr.set(pick(values)))
    return actions


def _merge(tenant_id: str, keep: Item, gone: Item) -> None:
    now = clock.now()
    actions = _survivor_actions(keep, gone)
    # Index items first, then the one transaction that makes the merge true, then the postings
    # settled. Before it: the survivor's new postings and all of the merged user's postings are
    # written unsure (a superset, each re-checked by audiences); a crash or a failed transaction
    # leaves them unsure, which costs reads, never a wrong recipient.
    held, gone_tags = set(user_tags(keep)), list(user_tags(gone))
    gained = [t for t in gone_tags if t not in held]
    puts = [store.posting(tenant_id, t, keep.user_id, unsure=True) for t in gained]
    puts += [store.posting(tenant_id, t, gone.user_id, unsure=True) for t in gone_tags]
    for kind, attr in (("F", gone.first_seen_at), ("A", gone.last_active_at),
                       ("P", gone.last_paid_at)):
        if attr:
            puts.append(store.bucket(tenant_id, kind, attr, keep.user_id))
    with Item.batch_write() as batch:
        for item in puts:
            batch.save(item)
    with Item.transaction() as tx:
        tx.update(keep, actions=actions,
                  condition=store.unchanged(keep) & Item.merged_into.does_not_exist())
        tx.update(gone, actions=[Item.merged_into.set(keep.user_id), Item.rev.add(1)],
                  condition=store.unchanged(gone) & Item.merged_into.does_not_exist())
        tx.save(Item(tenant_id=tenant_id, sk=Item.merged_key(gone.user_id), user_id=gone.user_id,
                     merged_into=keep.user_id, created_at=now))
        for kind, value in _gone_identities(gone):
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
        store.posting(tenant_id, tag, user_id).update(actions=[Item.unsure.remove()],
                                                      condition=Item.unsure.exists())
    except UpdateError as exc:
        if not condition_failed(exc):
            raise


def _move_events(tenant_id: str, from_id: str, to_id: str) -> None:
    prefix = Item.event_key(from_id)
    moved = list(Item.query(tenant_id, Item.sk.startswith(prefix)))
    with Item.batch_write() as batch:
        for e in moved:
            batch.save(Item(tenant_id=tenant_id, sk=Item.event_key(to_id) + e.sk[len(prefix):],
                            user_id=to_id, event_type=e.event_type, at=e.at,
                            properties=e.properties, expires=e.expires))
            batch.delete(e)
