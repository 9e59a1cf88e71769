"""Content library use cases: CRUD, tag queries from posting lists, counters, media.

Writes keep postings a superset of the truth: an item and the postings of its current tags and type
are written in one transaction; postings of removed tags are deleted afterwards. Queries filter on
postings, fetch the page's items and re-check them, so a stale posting is never answered.
"""
from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib import aws, clock, media, pagination
from chalicelib.content import inputs
from chalicelib.content.models import COUNTERS
from chalicelib.content.models import ContentItem as Item
from chalicelib.content.query import ALL, Query, plan
from chalicelib.db import condition_failed
from chalicelib.error_codes import CONTENT_CHANGED, CONTENT_NOT_FOUND
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.ids import ALPHABET, is_id, new_id
from chalicelib.secret_store import app_secret
from chalicelib.settings import get_settings

CONTENT_ID_LEN = 14
PRESIGN_SECONDS = 3600
INTERACTIONS = {"view": "views", "click": "clicks", "favorite": "favorites", "share": "shares"}
PAGE = 100


def new_content_id(now: datetime | None = None) -> str:
    """9 characters of milliseconds (sortable in ALPHABET order) and 5 random ones."""
    ms = int((now or clock.now()).timestamp() * 1000)
    head = ""
    for _ in range(9):
        ms, digit = divmod(ms, 32)
        head = ALPHABET[digit] + head
    return head + new_id(5)


# ---- views ------------------------------------------------------------------------------------

def _presign(key: str | None) -> str | None:
    if not key:
        return None
    return aws.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": get_settings().bucket, "Key": key},
        ExpiresIn=PRESIGN_SECONDS)


def _media_view(stored: dict | None) -> dict | None:
    if not stored:
        return None
    return {"url": _presign(stored["key"]), "content_type": stored["content_type"],
            "size": stored["size"], "filename": stored.get("filename"),
            "url_expires_in": PRESIGN_SECONDS}


def view(item: Item) -> dict:
    card = dict(item.card) if item.card else None
    if card is not None:
        card["thumbnail_url"] = _presign(card.pop("thumbnail_key", None))
    return {
        "id": item.sk, "type": item.ctype, "title": item.title, "body": item.body, "url": item.url,
        "media": _media_view(item.media), "card": card, "tags": list(item.tags or []),
        "counters": {name: int(getattr(item, name) or 0) for name in COUNTERS},
        "created_at": item.created_at.isoformat(), "updated_at": item.updated_at.isoformat(),
    }


# ---- reads ------------------------------------------------------------------------------------

def _missing() -> NotFound:
    return NotFound("no such content item", code=CONTENT_NOT_FOUND)


def load(tenant_id: str, content_id: str) -> Item:
    if not isinstance(content_id, str) or not is_id(content_id, CONTENT_ID_LEN):
        raise _missing()
    return Item.get_or_raise(Item.items_pk(tenant_id), content_id, _missing())


def get_item(tenant_id: str, content_id: str) -> dict:
    return view(load(tenant_id, content_id))


def get_items(tenant_id: str, content_ids: list[str]) -> dict[str, dict]:
    """Views by id (one BatchGet per 100); unknown ids are left out."""
    return {item.sk: view(item) for item in _batch(tenant_id, content_ids)}


def _batch(tenant_id: str, content_ids: list[str]) -> list[Item]:
    wanted = [c for c in dict.fromkeys(content_ids) if is_id(c, CONTENT_ID_LEN)]
    found: dict[str, Item] = {}
    for i in range(0, len(wanted), PAGE):
        for item in Item.batch_get([(Item.items_pk(tenant_id), c) for c in wanted[i:i + PAGE]]):
            found[item.sk] = item
    return [found[c] for c in wanted if c in found]


# ---- writes -----------------------------------------------------------------------------------

def _postings(tenant_id: str, item: Item) -> list[Item]:
    keys = [("T", t) for t in item.tags or []] + [("Y", item.ctype)]
    return [Item(pk=Item.list_pk(tenant_id, *k), sk=item.sk, tags=list(item.tags or []), ctype=item.ctype)
            for k in keys]


def _count(tenant_id: str, added: list[tuple[str, str]], removed: list[tuple[str, str]]) -> None:
    """List sizes for the planner (hints: a separate write, see the models docstring)."""
    changes = [(k, 1) for k in added] + [(k, -1) for k in removed]
    for i in range(0, len(changes), 100):
        with Item.transaction() as tx:
            for (kind, name), delta in changes[i:i + 100]:
                tx.update(Item(pk=Item.counts_pk(tenant_id), sk=Item.count_key(kind, name)),
                          actions=[Item.n.add(delta)])


def _store_media(tenant_id: str, parsed: inputs.ContentInput, values: dict) -> None:
    if parsed.media is not None:
        m = parsed.media
        values["media"] = {"key": media.put(tenant_id, "media", m.data, m.ext),
                           "content_type": m.content_type, "size": len(m.data),
                           "filename": m.filename}
    if parsed.thumbnail is not None:
        t = parsed.thumbnail
        values["card"]["thumbnail_key"] = media.put(tenant_id, "img", t.data, t.ext)


def create(tenant_id: str, body: dict, now: datetime | None = None) -> dict:
    now = now or clock.now()
    parsed = inputs.parse(body)
    values = dict(parsed.values)
    _store_media(tenant_id, parsed, values)
    fields: dict[str, Any] = {k: values.get(k) for k in ("title", "body", "url", "media", "card",
                                                         "tags")}
    item = Item(pk=Item.items_pk(tenant_id), sk=new_content_id(now), tenant_id=tenant_id,
                ctype=values.pop("type"), created_at=now, updated_at=now, **fields)
    with Item.transaction() as tx:
        tx.save(item, condition=Item.sk.does_not_exist())
        for posting in _postings(tenant_id, item):
            tx.save(posting)
    _count(tenant_id, [("T", t) for t in item.tags or []] + [("Y", item.ctype)], [])
    return view(item)


def update(tenant_id: str, content_id: str, body: dict, now: datetime | None = None) -> dict:
    now = now or clock.now()
    item = load(tenant_id, content_id)
    parsed = inputs.parse(body, existing_type=item.ctype)
    values = dict(parsed.values)
    values.pop("type")
    if "card" in values and parsed.thumbnail is None and item.card and "thumbnail" not in (
            body.get("card") or {}):
        values["card"]["thumbnail_key"] = item.card.get("thumbnail_key")
    _store_media(tenant_id, parsed, values)
    old_tags = list(item.tags or [])
    actions: list[Action] = [Item.updated_at.set(now)]
    for name in ("title", "body", "url", "media", "card", "tags"):
        if name in values:
            attr = getattr(Item, name)
            actions.append(attr.set(values[name]) if values[name] not in (None, []) else attr.remove())
    previous = item.updated_at
    new_tags = values.get("tags", old_tags)
    item.tags = new_tags
    try:
        with Item.transaction() as tx:
            tx.update(item, actions=actions, condition=Item.updated_at == previous)
            for posting in _postings(tenant_id, item):
                tx.save(posting)
    except TransactWriteError as exc:
        if condition_failed(exc):
            raise Conflict("the item changed meanwhile; read it again and retry",
                           code=CONTENT_CHANGED) from None
        raise
    removed = [t for t in old_tags if t not in new_tags]
    with Item.batch_write() as batch:
        for tag in removed:
            batch.delete(Item(pk=Item.tag_pk(tenant_id, tag), sk=content_id))
    _count(tenant_id, [("T", t) for t in new_tags if t not in old_tags], [("T", t) for t in removed])
    return get_item(tenant_id, content_id)


def delete(tenant_id: str, content_id: str) -> None:
    item = load(tenant_id, content_id)
    with Item.transaction() as tx:
        tx.delete(item, condition=Item.sk.exists())
        for posting in _postings(tenant_id, item):
            tx.delete(posting)
    _count(tenant_id, [], [("T", t) for t in item.tags or []] + [("Y", item.ctype)])


def record_interaction(tenant_id: str, content_id: str, kind: str) -> Item:
    """Add one to the item's counter (atomic ADD, one UpdateItem) and answer the updated item."""
    counter = INTERACTIONS.get(kind)
    if counter is None:
        raise ValidationFailed(f"'type' must be one of: {', '.join(INTERACTIONS)}", field="type")
    if not isinstance(content_id, str) or not is_id(content_id, CONTENT_ID_LEN):
        raise _missing()
    item = Item(pk=Item.items_pk(tenant_id), sk=content_id)
    try:
        item.update(actions=[getattr(Item, counter).add(1)], condition=Item.sk.exists())
    except UpdateError as exc:
        if condition_failed(exc):
            raise _missing() from None
        raise
    return item


# ---- queries ----------------------------------------------------------------------------------

def _sizes(tenant_id: str, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    if not keys:
        return {}
    found = Item.batch_get([(Item.counts_pk(tenant_id), Item.count_key(*k)) for k in keys])
    by_sk = {i.sk: int(i.n or 0) for i in found}
    return {k: by_sk.get(Item.count_key(*k), 0) for k in keys}


def _stream(tenant_id: str, key: tuple[str, str], before: str | None, page: int) -> Iterator[Item]:
    cond = Item.sk < before if before else None
    yield from Item.query(Item.list_pk(tenant_id, *key), cond, scan_index_forward=False, page_size=page)


def _merged(tenant_id: str, keys: list[tuple[str, str]], before: str | None,
            page: int) -> Iterator[Item]:
    streams = [_stream(tenant_id, k, before, page) for k in keys]
    last = None
    for posting in heapq.merge(*streams, key=lambda p: p.sk, reverse=True):
        if posting.sk != last:
            yield posting
        last = posting.sk


def query(tenant_id: str, q: Query, limit: int, cursor: str | None) -> dict:
    """One page, newest first: ``{"items", "next_cursor"}``. AWS calls: one BatchGet of list sizes
    when there is a choice, the Query pages of the chosen list(s), one BatchGet of the page."""
    secret, scope = app_secret(), "contents:" + q.fingerprint()
    position = pagination.decode(secret, tenant_id, scope, cursor)
    before = position.get("before") if position else None
    if before is not None and not (isinstance(before, str) and is_id(before, CONTENT_ID_LEN)):
        raise pagination.invalid()
    lists = plan(q, _sizes(tenant_id, q.candidate_lists()))
    direct = lists == [ALL]  # the all-items list holds the items themselves
    page_size = min(max(limit * 2, 50), 500)
    results: list[Item] = []
    while True:
        taken, more = _matches(_merged(tenant_id, lists, before, page_size), q, limit - len(results))
        items = taken if direct else _batch(tenant_id, [p.sk for p in taken])
        results += [i for i in items if q.matches(i.tags or [], i.ctype)]  # re-check stale postings
        if taken:
            before = taken[-1].sk
        if not more or len(results) >= limit:
            break
    next_cursor = pagination.encode(secret, tenant_id, scope, {"before": before}) if more else None
    return {"items": [view(i) for i in results], "next_cursor": next_cursor}


def _matches(postings: Iterator[Item], q: Query, need: int) -> tuple[list[Item], bool]:
    """The next ``need`` postings that match, and whether another one follows them."""
    found: list[Item] = []
    for posting in postings:
        if q.matches(posting.tags or [], posting.ctype):
            if len(found) == need:
                return found, True
            found.append(posting)
    return found, False
