"""Audience criteria (pure): parsing, matching a user, and choosing the index to read.

A user matches when they hold every ``tags_all`` tag, at least one ``tags_any`` tag (if any are
given), none of the ``tags_none`` tags, and their stage is one of ``stages`` (if any are given).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from chalicelib import tags as tagrules
from chalicelib.audience.stages import STAGES
from chalicelib.error_codes import INVALID_STAGE
from chalicelib.errors import ValidationFailed


@dataclass(frozen=True)
class Criteria:
    tags_all: tuple[str, ...] = ()
    tags_any: tuple[str, ...] = ()
    tags_none: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()

    @classmethod
    def build(cls, tags_all: Iterable[str] = (), tags_any: Iterable[str] = (),
              tags_none: Iterable[str] = (), stages: Iterable[str] = ()) -> "Criteria":
        clean_stages = tagrules.unique(stages)
        for s in clean_stages:
            if s not in STAGES:
                raise ValidationFailed(f"unknown stage {s!r}; one of: {', '.join(STAGES)}",
                                       code=INVALID_STAGE, field="stages")
        return cls(tuple(tagrules.normalize_all(list(tags_all), "tags_all")),
                   tuple(tagrules.normalize_all(list(tags_any), "tags_any")),
                   tuple(tagrules.normalize_all(list(tags_none), "tags_none")),
                   tuple(clean_stages))

    def matches(self, tags: Iterable[str], stage: str) -> bool:
        held = set(tags)
        return (all(t in held for t in self.tags_all)
                and (not self.tags_any or any(t in held for t in self.tags_any))
                and not any(t in held for t in self.tags_none)
                and (not self.stages or stage in self.stages))

    def fingerprint(self) -> str:
        raw = json.dumps([sorted(self.tags_all), sorted(self.tags_any), sorted(self.tags_none),
                          sorted(self.stages)], ensure_ascii=False)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


def postings_decide(c: Criteria) -> bool:
    """Whether holding a driver posting is the whole answer: one ``tags_all`` tag, or only
    ``tags_any`` tags — no other tag to test, no excluded tag, no stage. Then a *sure* posting
    (see the audience table) needs no user read; other criteria re-check every candidate."""
    if c.tags_none or c.stages:
        return False
    return (len(c.tags_all) == 1 and not c.tags_any) or (not c.tags_all and bool(c.tags_any))


def driver(c: Criteria) -> tuple[str, tuple[str, ...]]:
    """Which index yields the candidates: ("tag", (t,)) for one posting list, ("any", tags) for a
    union of posting lists, ("stages", stages) for day buckets, or ("all", ()) for every user.
    Candidates are a superset of the answer; each is re-checked with :meth:`Criteria.matches`."""
    if c.tags_all:
        return "tag", (c.tags_all[0],)
    if c.tags_any:
        return "any", c.tags_any
    if c.stages and "churned" not in c.stages:
        return "stages", c.stages
    return "all", ()
