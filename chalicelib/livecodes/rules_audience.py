"""Audience rules of a live code (pure): known customers to given targets.

A rule matches a known visitor (a ``Profile``: their tags and lifecycle stage) when every condition
it states holds: ``tags_all`` (every tag), ``tags_any`` (at least one), ``tags_none`` (none of them)
and ``stages`` (the stage is one of them); a rule states at least one condition. Rules are ordered;
the first that matches *and has an eligible target* sends the visitor to its ``target_ids`` (chosen
among them by the code's strategy). Targets named by a rule are reserved: unknown visitors, and
known ones no rule takes, are routed among the other targets only.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from chalicelib import tags as tagrules
from chalicelib.audience.stages import STAGES
from chalicelib.error_codes import INVALID_AUDIENCE_RULE
from chalicelib.errors import ValidationFailed

MAX_RULES = 20
MAX_RULE_TAGS = 20
RULE_FIELDS = ("tags_all", "tags_any", "tags_none", "stages", "target_ids")


class Profile(NamedTuple):
    """What routing knows of a known visitor."""
    tags: frozenset[str] = frozenset()
    stage: str | None = None


class AudienceRule(NamedTuple):
    target_ids: tuple[str, ...]
    tags_all: frozenset[str] = frozenset()
    tags_any: frozenset[str] = frozenset()
    tags_none: frozenset[str] = frozenset()
    stages: frozenset[str] = frozenset()

    def matches(self, profile: Profile) -> bool:
        return (self.tags_all <= profile.tags
                and (not self.tags_any or bool(self.tags_any & profile.tags))
                and not (self.tags_none & profile.tags)
                and (not self.stages or profile.stage in self.stages))


def from_stored(raw: Iterable[dict] | None) -> tuple[AudienceRule, ...]:
    """Rules from their stored (already validated) form."""
    return tuple(AudienceRule(target_ids=tuple(r["target_ids"]),
                              **{k: frozenset(r.get(k) or ()) for k in RULE_FIELDS[:4]})
                 for r in raw or ())


def matching(rules: Sequence[AudienceRule], profile: Profile | None) -> list[AudienceRule]:
    """The rules that take this visitor, in order (none for an unknown visitor)."""
    if profile is None:
        return []
    return [r for r in rules if r.matches(profile)]


def reserved(rules: Sequence[AudienceRule]) -> frozenset[str]:
    """Target ids only audience rules send visitors to."""
    return frozenset(tid for r in rules for tid in r.target_ids)


def parse(body: Any, target_ids: Sequence[str]) -> list[dict]:
    """``{"rules": [...]}`` checked against the code's current target ids; the stored form.
    Raises ValidationFailed (400 ``invalid-audience-rule``) naming the rule and the field."""
    if not isinstance(body, dict) or set(body) - {"rules"} or not isinstance(body.get("rules"), list):
        raise _bad("body must be {\"rules\": [...]}", "rules")
    raw = body["rules"]
    if len(raw) > MAX_RULES:
        raise _bad(f"at most {MAX_RULES} rules", "rules")
    return [_parse_rule(item, f"rules[{i}]", set(target_ids)) for i, item in enumerate(raw)]


def _parse_rule(item: Any, where: str, known: set[str]) -> dict:
    if not isinstance(item, dict):
        raise _bad(f"{where} must be an object", where)
    unknown = sorted(set(item) - set(RULE_FIELDS))
    if unknown:
        raise _bad(f"{where}: unknown field {unknown[0]!r}", f"{where}.{unknown[0]}")
    clean: dict[str, Any] = {}
    for key in ("tags_all", "tags_any", "tags_none"):
        if item.get(key) is not None:
            clean[key] = tagrules.normalize_all(item[key], f"{where}.{key}", MAX_RULE_TAGS)
    stages = item.get("stages")
    if stages is not None:
        if not isinstance(stages, list) or not all(s in STAGES for s in stages):
            raise _bad(f"{where}.stages must be a list of: {', '.join(STAGES)}", f"{where}.stages")
        clean["stages"] = sorted(set(stages))
    if not any(clean.get(k) for k in ("tags_all", "tags_any", "stages")):
        raise _bad(f"{where} needs a condition: tags_all, tags_any or stages", where)
    ids = item.get("target_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(t, str) for t in ids):
        raise _bad(f"{where}.target_ids must be a non-empty list of target ids", f"{where}.target_ids")
    missing = [t for t in ids if t not in known]
    if missing:
        raise _bad(f"{where}.target_ids: no such target on this live code: {missing[0][:16]}",
                   f"{where}.target_ids")
    clean["target_ids"] = list(dict.fromkeys(ids))
    return clean


def _bad(message: str, field: str) -> ValidationFailed:
    return ValidationFailed(message, code=INVALID_AUDIENCE_RULE, field=field)
