"""Smart push (pure): a message that names a content *pool* instead of one item, and the choice of
one pool item per recipient ("千人千面").

A smart-push message is ``{pick: "best_match", pool: {tags_any?, type?}, avoid_sent_within_days?,
fallback_content_id?, text?}``. At send time each recipient gets, among the pool items not sent to
them within ``avoid_sent_within_days``, the one with the highest affinity:

- each item tag the user holds adds the user's interest weight for it (clicks 1, shares 2,
  favourites 3, summed), or 1 for a manual or channel tag without interest weight;
- an item tag naming the user's lifecycle stage (``<stage>`` or ``stage:<stage>``) adds
  :data:`STAGE_WEIGHT`.

Ties go to the newest item (content ids are time-ordered), so the choice is deterministic. An item
with no affinity at all (score 0) is not "a match": then the ``fallback_content_id`` is sent, or,
without one, the newest eligible item. Nothing eligible and no fallback: the recipient is skipped
(``pool_exhausted``). Every choice carries its explanation (:class:`Choice`), stored on the
delivery row.

Recent sends come from the user's contact item (read by the sender anyway for frequency caps):
a compact map content id → UTC day of the last send, :func:`remember` updates it with the send.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib import tags as tagrules
from chalicelib import validate as v
from chalicelib.error_codes import INVALID_MESSAGE, INVALID_POOL
from chalicelib.errors import ValidationFailed

PICK = "best_match"
STAGE_WEIGHT = 2
MAX_AVOID_DAYS = 90
MAX_POOL_TAGS = 20
MAX_POOL = 500  # the newest items of a pool that are considered
RECENT_KEEP = 60  # recent sends kept per user (the newest)
EXPLAIN = 5  # matched tags / skipped ids kept in an explanation
POOL_TYPES = ("text", "image", "video", "audio", "article", "link", "miniprogram", "file")
EXHAUSTED = "pool_exhausted"  # the reason of a recipient the pool has nothing left for


@dataclass(frozen=True)
class PoolItem:
    """What scoring needs of a pool item (a content posting carries exactly this)."""
    content_id: str
    tags: tuple[str, ...]
    ctype: str | None = None


@dataclass(frozen=True)
class Profile:
    """What scoring needs of a user: interest weights, manual/channel tags and the stage."""
    interests: dict[str, float] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    stage: str = ""

    @classmethod
    def from_view(cls, user: dict | None) -> Profile:
        """From an audience user view (``GET /v1/users/{id}``'s shape)."""
        if not user:
            return cls()
        details = user.get("tag_details") or {}
        interests = {t: float(d.get("weight") or 0) for t, d in details.items()
                     if "interest" in (d.get("sources") or ())}
        held = {t for t, d in details.items() if set(d.get("sources") or ()) - {"interest"}}
        return cls(interests, frozenset(held), user.get("stage") or "")


@dataclass(frozen=True)
class Choice:
    """The pick for one recipient and why: ``reason`` is best_match, fallback or newest."""
    content_id: str | None
    reason: str
    score: float = 0
    matched: tuple[str, ...] = ()
    skipped_recent: tuple[str, ...] = ()

    def to_record(self) -> dict:
        """The compact form stored on the delivery row (key ``p``)."""
        record: dict[str, Any] = {"c": self.content_id, "why": self.reason}
        if self.score:
            record["sc"] = int(self.score) if float(self.score).is_integer() else self.score
        if self.matched:
            record["m"] = list(self.matched)
        if self.skipped_recent:
            record["rs"] = list(self.skipped_recent)
        return record

    @classmethod
    def from_record(cls, data: dict) -> Choice:
        return cls(data.get("c"), data.get("why", PICK), data.get("sc", 0),
                   tuple(data.get("m") or ()), tuple(data.get("rs") or ()))

    def view(self) -> dict:
        """The API shape (``GET …/deliveries``: ``pick``)."""
        return {"content_id": self.content_id, "reason": self.reason, "score": self.score,
                "matched_tags": list(self.matched), "skipped_recent": list(self.skipped_recent)}


# ---- parsing ------------------------------------------------------------------------------------

def is_smart(message: dict | None) -> bool:
    return bool(message and message.get("pick"))


def parse(value: dict) -> dict:
    """A smart-push message, cleaned (ValidationFailed with the message field named)."""
    v.only_keys(value, {"pick", "pool", "avoid_sent_within_days", "fallback_content_id", "text",
                        "coupon"}, "message")
    if value.get("pick") != PICK:
        raise ValidationFailed(f"'message.pick' must be {PICK!r}", code=INVALID_MESSAGE,
                               field="message.pick")
    pool = parse_pool(value.get("pool"))
    days = value.get("avoid_sent_within_days", 0)
    if days is None:
        days = 0
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_AVOID_DAYS:
        raise ValidationFailed(f"'message.avoid_sent_within_days' must be an integer "
                               f"0-{MAX_AVOID_DAYS}", code=INVALID_MESSAGE,
                               field="message.avoid_sent_within_days")
    fallback = v.text(value, "fallback_content_id", max_len=64)
    return {"pick": PICK, "pool": pool, "avoid_sent_within_days": days,
            "fallback_content_id": fallback}


def parse_pool(value: Any) -> dict:
    if not isinstance(value, dict):
        raise ValidationFailed("'message.pool' must be an object {tags_any?, type?}",
                               code=INVALID_POOL, field="message.pool")
    v.only_keys(value, {"tags_any", "type"}, "message.pool")
    raw = value.get("tags_any") or []
    if not isinstance(raw, list) or len(raw) > MAX_POOL_TAGS:
        raise ValidationFailed(f"'message.pool.tags_any' must be an array of at most "
                               f"{MAX_POOL_TAGS} tags", code=INVALID_POOL,
                               field="message.pool.tags_any")
    try:
        tags = tagrules.normalize_all(raw)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, code=INVALID_POOL,
                               field="message.pool.tags_any") from None
    ctype = value.get("type")
    if ctype is not None and ctype not in POOL_TYPES:
        raise ValidationFailed(f"'message.pool.type' must be one of: {', '.join(POOL_TYPES)}",
                               code=INVALID_POOL, field="message.pool.type")
    if not tags and ctype is None:
        raise ValidationFailed("'message.pool' needs 'tags_any' or 'type'", code=INVALID_POOL,
                               field="message.pool")
    return {"tags_any": tags, "type": ctype}


# ---- scoring ------------------------------------------------------------------------------------

def score(item: PoolItem, user: Profile) -> tuple[float, tuple[str, ...]]:
    """The affinity of ``user`` to ``item`` and the item tags that made it (in item order)."""
    total, matched = 0.0, []
    stage_tags = {user.stage, f"stage:{user.stage}"} if user.stage else set()
    for tag in item.tags:
        weight = user.interests.get(tag) or (1.0 if tag in user.tags else 0.0)
        if tag in stage_tags:
            weight += STAGE_WEIGHT
        if weight:
            total += weight
            matched.append(tag)
    return total, tuple(matched)


class Index:
    """A pool ready for many choices: items newest first and, per tag, the items holding it (a
    user is scored only against the items sharing a tag with them)."""

    def __init__(self, items: list[PoolItem]) -> None:
        self.items = sorted(items, key=lambda p: p.content_id, reverse=True)
        self.ids = {p.content_id: i for i, p in enumerate(self.items)}
        self.by_tag: dict[str, list[PoolItem]] = {}
        self._positions: dict[str, dict[str, int]] = {}
        for item in self.items:
            self._positions[item.content_id] = {t: i for i, t in enumerate(item.tags)}
            for tag in dict.fromkeys(item.tags):
                self.by_tag.setdefault(tag, []).append(item)

    def scores(self, user: Profile) -> dict[str, tuple[float, list[str]]]:
        """Every item sharing a tag with the user: its :func:`score` (the same sums, accumulated
        per user tag over the items holding it), matched tags in item order."""
        weights: dict[str, float] = dict.fromkeys(user.tags, 1.0)
        weights.update({t: w for t, w in user.interests.items() if w})
        if user.stage:
            for tag in (user.stage, f"stage:{user.stage}"):
                weights[tag] = weights.get(tag, 0.0) + STAGE_WEIGHT
        found: dict[str, tuple[float, list[str]]] = {}
        for tag, weight in weights.items():
            for item in self.by_tag.get(tag, ()):
                total, matched = found.get(item.content_id, (0.0, []))
                found[item.content_id] = (total + weight, [*matched, tag])
        return {cid: (total, sorted(matched, key=self._positions[cid].__getitem__))
                for cid, (total, matched) in found.items()}


def choose(pool: Index | list[PoolItem], user: Profile, recent: dict[str, int], today: int,
           avoid_days: int, fallback: str | None) -> Choice:
    """The pick for one user (``recent``: content id → UTC day number of its last send)."""
    index = pool if isinstance(pool, Index) else Index(pool)
    cutoff = today - avoid_days + 1 if avoid_days else None
    skipped = set() if cutoff is None else {
        cid for cid, day in recent.items() if day >= cutoff and cid in index.ids}
    shown = tuple(sorted(skipped, key=index.ids.__getitem__)[:EXPLAIN])
    best: tuple[float, str] | None = None
    best_matched: tuple[str, ...] = ()
    for cid, (value, matched) in index.scores(user).items():
        if cid in skipped:
            continue
        if value and (best is None or (value, cid) > best):  # ties: the newest (largest) id
            best, best_matched = (value, cid), tuple(matched)
    if best is not None:
        return Choice(best[1], PICK, best[0], best_matched[:EXPLAIN], shown)
    if fallback:
        return Choice(fallback, "fallback", 0, (), shown)
    newest = next((p.content_id for p in index.items if p.content_id not in skipped), None)
    if newest is not None:
        return Choice(newest, "newest", 0, (), shown)
    return Choice(None, EXHAUSTED, 0, (), shown)


# ---- recent sends on the contact item (DynamoDB JSON) ------------------------------------------

RECENT_ATTR = "r"


def recent_sends(contact: dict) -> dict[str, int]:
    return {cid: int(day["N"]) for cid, day in
            (contact.get(RECENT_ATTR) or {}).get("M", {}).items()}


def remember(contact: dict, content_id: str, today: int) -> dict:
    """The contact item with this send remembered (entries older than the longest window and
    beyond the newest :data:`RECENT_KEEP` are dropped, so the item stays small)."""
    recent = {cid: day for cid, day in recent_sends(contact).items()
              if day > today - MAX_AVOID_DAYS}
    recent[content_id] = today
    kept = sorted(recent.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)[:RECENT_KEEP]
    return {**contact, RECENT_ATTR: {"M": {cid: {"N": str(day)} for cid, day in kept}}}
