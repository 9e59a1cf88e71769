"""Content queries (pure): parsing, the matching rule and query planning.

An item matches ``tags=a,b&match=all&not=c&type=t`` when it holds every tag (``match=any``: at least
one), none of the ``not`` tags and has the type. Planning picks the posting lists to read:

- ``all``: the smallest of the tag lists and the type list (by their stored sizes); every other
  condition is checked on the postings, which carry the item's tags and type.
- ``any``: the union of the tag lists, merged newest first; or the type list alone when it is
  smaller than the tag lists together.
- no tags: the type list, else the list of all items.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from chalicelib import tags as tagrules
from chalicelib import validate as v
from chalicelib.errors import ValidationFailed

TYPES = ("text", "image", "video", "audio", "article", "link", "miniprogram", "file")
MAX_QUERY_TAGS = 20
ALL = ("A", "")


@dataclass(frozen=True)
class Query:
    tags: tuple[str, ...] = ()
    match: str = "all"
    exclude: tuple[str, ...] = ()
    ctype: str | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> "Query":
        v.only_keys(dict(params), {"tags", "match", "not", "type", "cursor", "limit"}, "query")
        return cls(tags=tuple(tagrules.parse_csv(params.get("tags"), "tags", MAX_QUERY_TAGS)),
                   match=v.choice(dict(params), "match", ("all", "any"), default="all"),
                   exclude=tuple(tagrules.parse_csv(params.get("not"), "not", MAX_QUERY_TAGS)),
                   ctype=v.choice(dict(params), "type", TYPES))

    def matches(self, tags: Iterable[str], ctype: str | None) -> bool:
        held = set(tags)
        if self.ctype is not None and ctype != self.ctype:
            return False
        if any(t in held for t in self.exclude):
            return False
        if not self.tags:
            return True
        if self.match == "all":
            return all(t in held for t in self.tags)
        return any(t in held for t in self.tags)

    def fingerprint(self) -> str:
        raw = json.dumps([sorted(self.tags), self.match, sorted(self.exclude), self.ctype])
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def candidate_lists(self) -> list[tuple[str, str]]:
        """The lists whose sizes the planner compares (empty: nothing to compare)."""
        lists = [("T", t) for t in self.tags]
        typed = [("Y", self.ctype)] if self.ctype else []
        if self.match == "all" and len(lists) + len(typed) > 1:
            return lists + typed
        if self.match == "any" and lists and typed:
            return lists + typed
        return []


def plan(q: Query, sizes: Mapping[tuple[str, str], int] | None = None) -> list[tuple[str, str]]:
    """The lists to read (their union, newest first); each read posting is then checked with
    :meth:`Query.matches`. ``sizes`` holds list sizes for :meth:`Query.candidate_lists`."""
    sizes = sizes or {}
    typed = [("Y", q.ctype)] if q.ctype else []
    if not q.tags:
        return typed or [ALL]
    lists = [("T", t) for t in q.tags]
    if q.match == "all":
        candidates = lists + typed
        return [min(candidates, key=lambda key: (sizes.get(key, 0), candidates.index(key)))]
    if typed and sizes.get(typed[0], 0) < sum(sizes.get(k, 0) for k in lists):
        return typed
    return lists


def check_type(value: object) -> str:
    if value not in TYPES:
        raise ValidationFailed(f"'type' must be one of: {', '.join(TYPES)}", field="type")
    return str(value)
