"""Branch conditions (pure): validated once on save, evaluated per person at the branch step.

A condition is one of ``{"tags_all": [...]}``, ``{"tags_any": [...]}``, ``{"tags_none": [...]}``,
``{"stage": [...]}``, ``{"event_since_entry": "<type>"}``, ``{"property": "<name>", "op": ...,
"value": ...}`` (a property of the entry event), or ``{"all": [...]}`` / ``{"any": [...]}`` /
``{"not": {...}}`` combining others. The context a condition reads is a :class:`Context`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STAGES = ("new", "active", "silent", "churned", "paying")
OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "exists")
LEAVES = ("tags_all", "tags_any", "tags_none", "stage", "event_since_entry", "property")
GROUPS = ("all", "any", "not")
MAX_DEPTH = 4
# What operators call an event → the audience event type it is recorded under.
EVENT_ALIASES = {"clicked": "campaign_clicked", "staff_added": "joined_staff",
                 "group_joined": "joined_group"}


def alias(event_type: str) -> str:
    return EVENT_ALIASES.get(event_type, event_type)


class ConditionError(ValueError):
    """What is wrong with a condition (the graph validation names the step)."""


@dataclass(frozen=True)
class Context:
    tags: frozenset[str] = frozenset()
    stage: str | None = None
    seen: frozenset[str] = frozenset()  # event types recorded since entry
    properties: dict = field(default_factory=dict)  # of the entry event


def check(cond: Any, depth: int = 0) -> dict:
    """The condition, normalised (tags lower-cased), or ConditionError."""
    if depth > MAX_DEPTH:
        raise ConditionError(f"conditions nest at most {MAX_DEPTH} deep")
    if not isinstance(cond, dict) or len(cond) != 1 and "property" not in cond:
        raise ConditionError("a condition is an object with one of: " + ", ".join(LEAVES + GROUPS))
    key = "property" if "property" in cond else next(iter(cond))
    if key in ("all", "any"):
        items = cond[key]
        if not isinstance(items, list) or not items:
            raise ConditionError(f"'{key}' needs a non-empty list of conditions")
        return {key: [check(c, depth + 1) for c in items]}
    if key == "not":
        return {"not": check(cond["not"], depth + 1)}
    if key in ("tags_all", "tags_any", "tags_none"):
        return {key: _strings(cond[key], key, lower=True)}
    if key == "stage":
        stages = _strings(cond[key], key)
        unknown = [s for s in stages if s not in STAGES]
        if unknown:
            raise ConditionError(f"unknown stage {unknown[0]!r}; one of: {', '.join(STAGES)}")
        return {key: stages}
    if key == "event_since_entry":
        if not isinstance(cond[key], str) or not cond[key]:
            raise ConditionError("'event_since_entry' must name an event type")
        return {key: alias(cond[key])}
    if key == "property":
        return _check_property(cond)
    raise ConditionError(f"unknown condition {key!r}; one of: " + ", ".join(LEAVES + GROUPS))


def _strings(value: Any, key: str, lower: bool = False) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ConditionError(f"'{key}' must be a non-empty list of strings")
    return [v.strip().lower() if lower else v for v in value]


def _check_property(cond: dict) -> dict:
    extra = set(cond) - {"property", "op", "value"}
    if extra:
        raise ConditionError(f"unknown key {sorted(extra)[0]!r} in a property condition")
    name, op = cond.get("property"), cond.get("op", "eq")
    if not isinstance(name, str) or not name:
        raise ConditionError("'property' must name a property of the entry event")
    if op not in OPS:
        raise ConditionError(f"unknown op {op!r}; one of: {', '.join(OPS)}")
    if op != "exists" and "value" not in cond:
        raise ConditionError(f"op {op!r} needs a 'value'")
    if op == "in" and not isinstance(cond["value"], list):
        raise ConditionError("op 'in' needs a list 'value'")
    return {"property": name, "op": op, "value": cond.get("value")}


def evaluate(cond: dict, ctx: Context) -> bool:
    key = "property" if "property" in cond else next(iter(cond))
    if key == "all":
        return all(evaluate(c, ctx) for c in cond["all"])
    if key == "any":
        return any(evaluate(c, ctx) for c in cond["any"])
    if key == "not":
        return not evaluate(cond["not"], ctx)
    if key == "tags_all":
        return all(t in ctx.tags for t in cond[key])
    if key == "tags_any":
        return any(t in ctx.tags for t in cond[key])
    if key == "tags_none":
        return not any(t in ctx.tags for t in cond[key])
    if key == "stage":
        return ctx.stage in cond[key]
    if key == "event_since_entry":
        return cond[key] in ctx.seen
    return _compare(ctx.properties, cond)


def _compare(props: dict, cond: dict) -> bool:
    op, name, want = cond["op"], cond["property"], cond["value"]
    if op == "exists":
        return name in props and props[name] is not None
    if name not in props:
        return False
    have = props[name]
    if op == "eq":
        return bool(have == want)
    if op == "ne":
        return bool(have != want)
    if op == "in":
        return have in want
    try:
        a, b = float(have), float(want)
    except (TypeError, ValueError):
        return False
    return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]


def needs_user(cond: dict) -> bool:
    """True when evaluating ``cond`` reads the user's tags or stage (one bulk read per tick)."""
    key = "property" if "property" in cond else next(iter(cond))
    if key in ("all", "any"):
        return any(needs_user(c) for c in cond[key])
    if key == "not":
        return needs_user(cond["not"])
    return key.startswith("tags_") or key == "stage"
