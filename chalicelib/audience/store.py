"""The audience table's shared pieces: loading users (following merges) and the index items
every use case writes with a user change.

Invariants (the use cases in :mod:`users`, :mod:`identities`, :mod:`activity` keep them):
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
  the unsure postings' users (:mod:`segments`).
- Stage is computed on read from the user's times (:mod:`chalicelib.audience.stages`).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.audience import stages as stage_rules
from chalicelib.audience.models import AudienceItem as Item
from chalicelib.audience.rules import USER_ID_LEN
from chalicelib.error_codes import USER_NOT_FOUND
from chalicelib.errors import NotFound
from chalicelib.ids import is_id

RETENTION = timedelta(days=400)
MAX_MERGE_HOPS = 5
BATCH = 100


def missing(user_id: str) -> NotFound:
    return NotFound(f"no such user: {user_id}", code=USER_NOT_FOUND)


def check_user_id(user_id: Any) -> str:
    if not isinstance(user_id, str) or not is_id(user_id, USER_ID_LEN):
        raise missing(str(user_id)[:40])
    return user_id


def load(tenant_id: str, user_id: str) -> Item:
    """The live user (following merges), or NotFound."""
    for _ in range(MAX_MERGE_HOPS):
        check_user_id(user_id)
        try:
            user = Item.get(tenant_id, Item.user_key(user_id), consistent_read=True)
        except DoesNotExist:
            raise missing(user_id) from None
        if not user.merged_into:
            return user
        user_id = user.merged_into
    raise missing(user_id)


def batch_load(tenant_id: str, user_ids: Iterable[str],
               attributes: list | None = None) -> dict[str, Item]:
    """User items by id (merged ones included, as stored), one BatchGet per 100; ``attributes``
    (a projection, which must include ``user_id``) reads only those attributes."""
    wanted = list(dict.fromkeys(u for u in user_ids if isinstance(u, str) and is_id(u, USER_ID_LEN)))
    found: dict[str, Item] = {}
    for i in range(0, len(wanted), BATCH):
        keys = [(tenant_id, Item.user_key(u)) for u in wanted[i:i + BATCH]]
        for item in Item.batch_get(keys, attributes_to_get=attributes):
            found[item.user_id] = item
    return found


def range_load(tenant_id: str, user_ids: Iterable[str],
               attributes: list | None = None) -> dict[str, Item]:
    """Like :func:`batch_load`, for ids that are a slice of the tenant's users in id order (a
    campaign batch): one Query over the id range reads ~1 MB of users per call instead of 100 per
    BatchGet. The range may hold users that were not asked for; once it has yielded more than
    twice the ids asked (plus :data:`BATCH`), the rest is read with BatchGet — a sparse slice
    costs at most that much more, never a read per user."""
    wanted = sorted({u for u in user_ids if isinstance(u, str) and is_id(u, USER_ID_LEN)})
    if len(wanted) <= BATCH:
        return batch_load(tenant_id, wanted, attributes)
    asked, found = set(wanted), {}
    cond = Item.sk.between(Item.user_key(wanted[0]), Item.user_key(wanted[-1]))
    items = Item.query(tenant_id, cond, attributes_to_get=attributes)
    for seen, item in enumerate(items, 1):
        if item.user_id in asked:
            found[item.user_id] = item
        if seen > 2 * len(wanted) + BATCH:
            last = item.user_id
            found.update(batch_load(tenant_id, [u for u in wanted if u > last], attributes))
            break
    return found


# ---- index items and conditions written with a user change ---------------------------------------

def expires(at: datetime) -> int:
    """The TTL (epoch seconds) of index and event items about ``at``."""
    return int((at + RETENTION).timestamp())


def posting(tenant_id: str, tag: str, user_id: str, unsure: bool = False) -> Item:
    return Item(tenant_id=tenant_id, sk=Item.tag_key(tag, user_id), user_id=user_id,
                unsure="merge" if unsure else None)


def bucket(tenant_id: str, kind: str, at: datetime, user_id: str) -> Item:
    day = stage_rules.day_of(at).isoformat()
    return Item(tenant_id=tenant_id, sk=Item.bucket_key(kind, day, user_id), user_id=user_id,
                expires=expires(at))


def live_user() -> Any:
    """Condition: the user item exists and is not merged away."""
    return Item.sk.exists() & Item.merged_into.does_not_exist()


def unchanged(user: Item) -> Any:
    """Condition: the user item is still the revision we read (every user write adds 1 to ``rev``)."""
    return Item.rev == int(user.rev or 0)


def interest_add(tag: str, weight: int) -> Any:
    path = Item.interests[tag]
    return path.set((path | {"N": "0"}) + {"N": str(int(weight))})
