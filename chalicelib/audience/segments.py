"""Segments: the users matching audience criteria (:mod:`chalicelib.audience.criteria`), read from
index items — tag postings, day buckets, the user listing — never a Scan.

Criteria the tag postings decide alone are answered from the postings, re-checking only unsure
ones (see :mod:`chalicelib.audience.store`); other criteria take candidates from an index and
re-check each against a projection of the user item (one BatchGet per 100 candidates).
"""
from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from chalicelib import clock
from chalicelib.audience import stages as stage_rules
from chalicelib.audience import store
from chalicelib.audience.criteria import Criteria, driver, postings_decide
from chalicelib.audience.models import AudienceItem as Item
from chalicelib.audience.store import BATCH
from chalicelib.audience.thresholds import get_thresholds
from chalicelib.audience.views import user_stage, user_tags, view


def iter_audience(tenant_id: str, tags_all: Iterable[str] = (), tags_any: Iterable[str] = (),
                  tags_none: Iterable[str] = (), stages: Iterable[str] = (),
                  after: str | None = None, limit: int | None = None) -> Iterator[str]:
    """Each matching user id exactly once, in id order, from index items (never a Scan). Criteria
    the tag postings decide alone (:func:`postings_decide`) are answered from the postings,
    re-checking only unsure ones; other criteria take candidates from a tag posting list, a union of
    them, day buckets or the user listing, each re-checked against the user item (one BatchGet per
    100 candidates, reading only what the re-check needs: see :func:`recheck_attributes`).
    ``limit``, the most ids the caller takes,
    sizes the reads: index pages and re-check batches hold no more candidates than can still be
    yielded."""
    criteria = Criteria.build(tags_all, tags_any, tags_none, stages)
    if postings_decide(criteria):
        yield from _from_postings(tenant_id, criteria, after, limit)
        return
    for user in matching(tenant_id, criteria, after, recheck_attributes(criteria), limit):
        yield user.user_id


def list_users(tenant_id: str, criteria: Criteria, limit: int,
               after: str | None) -> tuple[list[dict], str | None]:
    """One page of matching users in id order, and the last id when more may follow."""
    thresholds = get_thresholds(tenant_id)
    page: list[dict] = []
    more = False
    for user in matching(tenant_id, criteria, after, limit=limit + 1):
        if len(page) == limit:
            more = True
            break
        page.append(view(user, thresholds))
    return page, (page[-1]["id"] if more else None)


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
        found = (store.batch_load(tenant_id, doubtful, recheck_attributes(criteria))
                 if doubtful else {})
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


def recheck_attributes(criteria: Criteria) -> list:
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


def matching(tenant_id: str, criteria: Criteria, after: str | None,
             attributes: list | None = None, limit: int | None = None) -> Iterator[Item]:
    """Matching live users in id order past ``after``, at most ``limit``; with ``attributes`` the
    items hold only that projection."""
    if limit is not None and limit <= 0:
        return
    thresholds = get_thresholds(tenant_id)
    now = clock.now()
    chunk: list[str] = []
    # With a limit, a re-check batch holds the candidates still wanted plus as many as were
    # rejected so far (up to 100): the last batch of a page is not a full 100 read for one id.
    left, rejected = limit, 0
    page = None if limit is None else max(limit, 10 * BATCH)

    def flush() -> Iterator[Item]:
        nonlocal left, rejected
        found = store.batch_load(tenant_id, chunk, attributes)
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
        return _sorted_ids(tenant_id, Item.user_key(), after, page)
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
    """(user id, unsure) of a tag's postings in id order (see :mod:`chalicelib.audience.store`)."""
    prefix = Item.tag_key(tag)
    for item in _index_after(tenant_id, prefix, after, page, ["sk", "unsure"]):
        yield item.sk[len(prefix):], item.unsure is not None


def _bucket_ids(tenant_id: str, wanted: Iterable[str], thresholds: stage_rules.Thresholds,
                now: datetime, after: str | None) -> set[str]:
    ids: set[str] = set()
    today = stage_rules.day_of(now)
    for name in wanted:
        window = stage_rules.candidate_window(name, thresholds)
        if window is None:  # criteria.driver sends only bucketed stages here (never "churned")
            raise ValueError(f"stage {name!r} has no day bucket")
        kind, days = window
        first = (today - timedelta(days=days - 1)).isoformat()
        cond = Item.sk.between(Item.bucket_key(kind, first), Item.bucket_key(kind, today.isoformat()) + "~")
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
