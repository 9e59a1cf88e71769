"""A/B split of a live code (pure): arms, the draw, and the significance of the goal figures.

An experiment splits *new* visitors between two or more arms (groups of the code's targets) by
``weight``; inside an arm the code's strategy picks the target. A visitor keeps their arm: a
returning visitor keeps their target, and one whose target closed is routed again inside the arm
of that target first. Once the operator confirms a ``winner``, every new visitor goes to that arm.
The goal (``adds``: 企业微信 contacts added, ``joins``: groups joined, ``conversions``) is read from
the insight counters per target; each arm's rate is goal / visitors placed in the arm.
"""
from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from chalicelib.error_codes import INVALID_EXPERIMENT, NO_EXPERIMENT
from chalicelib.errors import Conflict, ValidationFailed

GOALS = ("adds", "joins", "conversions")
MAX_ARMS = 10
_NAME_MAX = 32


class Arm(NamedTuple):
    name: str
    weight: int
    target_ids: tuple[str, ...]


class Experiment(NamedTuple):
    goal: str
    arms: tuple[Arm, ...]
    winner: str | None = None
    started_at: datetime | None = None

    def arm_of(self, target_id: str | None) -> Arm | None:
        return next((a for a in self.arms if target_id in a.target_ids), None)

    def covered(self) -> frozenset[str]:
        return frozenset(t for a in self.arms for t in a.target_ids)


def from_stored(raw: dict | None) -> Experiment | None:
    if not raw:
        return None
    started = raw.get("started_at")
    return Experiment(goal=raw["goal"], winner=raw.get("winner"),
                      started_at=datetime.fromisoformat(started) if started else None,
                      arms=tuple(Arm(a["name"], int(a["weight"]), tuple(a["target_ids"]))
                                 for a in raw["arms"]))


def draw(exp: Experiment, has_room: Callable[[Arm], bool], previous: str | None,
         rng: random.Random) -> Arm | None:
    """The arm a new (or re-routed) visitor goes to: the winner once confirmed; else the arm of
    their previous target; else a weighted draw among the arms with room. None: no arm has room."""
    if exp.winner is not None:
        winner = next((a for a in exp.arms if a.name == exp.winner), None)
        return winner if winner is not None and has_room(winner) else None
    kept = exp.arm_of(previous)
    if kept is not None and has_room(kept):
        return kept
    open_arms = [a for a in exp.arms if a.weight > 0 and has_room(a)]
    if not open_arms:
        return None
    return rng.choices(open_arms, weights=[a.weight for a in open_arms], k=1)[0]


# ---- significance ---------------------------------------------------------------------------------

def chi2_sf(x: float, df: int) -> float:
    """P(X >= x) for a chi-square variable with ``df`` degrees of freedom (closed forms)."""
    if x <= 0:
        return 1.0
    half = x / 2
    if df % 2 == 0:
        term, total = 1.0, 1.0
        for i in range(1, df // 2):
            term *= half / i
            total += term
        return min(1.0, math.exp(-half) * total)
    total = math.erfc(math.sqrt(half))
    term = math.sqrt(half) / math.gamma(1.5)  # (x/2)^(1/2) / Γ(3/2)
    for i in range(1, (df - 1) // 2 + 1):
        total += math.exp(-half) * term
        term *= half / (i + 0.5)
    return min(1.0, total)


def z_test(goal_a: int, n_a: int, goal_b: int, n_b: int) -> tuple[float | None, float | None]:
    """Two-proportion z-test (pooled) of arm b against arm a: (z, two-sided p), None without data."""
    if n_a == 0 or n_b == 0:
        return None, None
    pooled = (goal_a + goal_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return 0.0, 1.0
    z = (goal_b / n_b - goal_a / n_a) / se
    return z, math.erfc(abs(z) / math.sqrt(2))


def chi_square(counts: Sequence[tuple[int, int]]) -> tuple[float | None, float | None]:
    """Pearson chi-square of independence on (goal, visitors) per arm: (statistic, p-value)."""
    rows = [(g, n - g) for g, n in counts if n > 0]
    total = sum(g + o for g, o in rows)
    if len(rows) < 2 or total == 0:
        return None, None
    cols = (sum(g for g, _ in rows), sum(o for _, o in rows))
    if 0 in cols:
        return 0.0, 1.0
    stat = sum((obs - (g + o) * col / total) ** 2 / ((g + o) * col / total)
               for g, o in rows for obs, col in ((g, cols[0]), (o, cols[1])))
    return stat, chi2_sf(stat, len(rows) - 1)


def report(exp: Experiment, per_arm: dict[str, tuple[int, int]]) -> dict[str, Any]:
    """The stats answer's figures: per arm visitors, goal, rate, z and p against the first arm;
    overall chi-square and its p-value; the arm with the best rate so far."""
    counts = [per_arm.get(a.name, (0, 0)) for a in exp.arms]
    base_goal, base_n = counts[0]
    arms: list[dict[str, Any]] = []
    for i, (arm, (goal, n)) in enumerate(zip(exp.arms, counts, strict=True)):
        z, p = (None, None) if i == 0 else z_test(base_goal, base_n, goal, n)
        arms.append({"name": arm.name, "weight": arm.weight, "target_ids": list(arm.target_ids),
                     "visitors": n, "goal": goal, "rate": round(goal / n, 6) if n else None,
                     "z": _round(z), "p_value": _round(p)})
    stat, p_all = chi_square(counts)
    rated = [(goal / n, arm.name) for arm, (goal, n) in zip(exp.arms, counts, strict=True) if n]
    leader = max(rated, key=lambda r: r[0])[1] if rated else None
    return {"goal": exp.goal, "winner": exp.winner, "arms": arms, "chi_square": _round(stat),
            "p_value": _round(p_all), "leader": leader}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


# ---- input ------------------------------------------------------------------------------------------

def parse(body: Any, target_ids: Sequence[str], reserved: frozenset[str]) -> dict:
    """``{goal, arms: [{name, weight, target_ids}]}`` checked against the code's targets (none
    reserved by an audience rule, none in two arms); the stored form (without ``started_at``)."""
    if not isinstance(body, dict) or set(body) - {"goal", "arms"}:
        raise _bad("body must be {\"goal\": ..., \"arms\": [...]}", "body")
    if body.get("goal") not in GOALS:
        raise _bad(f"'goal' must be one of: {', '.join(GOALS)}", "goal")
    raw = body.get("arms")
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_ARMS:
        raise _bad(f"'arms' must be a list of 2 to {MAX_ARMS} arms", "arms")
    arms: list[dict] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        arm = _parse_arm(item, f"arms[{i}]", set(target_ids), reserved)
        if arm["name"] in {a["name"] for a in arms}:
            raise _bad(f"arms[{i}].name repeats {arm['name']!r}", f"arms[{i}].name")
        taken = seen & set(arm["target_ids"])
        if taken:
            raise _bad(f"arms[{i}]: target {sorted(taken)[0]} is already in another arm",
                       f"arms[{i}].target_ids")
        seen |= set(arm["target_ids"])
        arms.append(arm)
    if sum(a["weight"] for a in arms) <= 0:
        raise _bad("at least one arm needs a weight above 0", "arms")
    return {"goal": body["goal"], "arms": arms}


def _parse_arm(item: Any, where: str, known: set[str], reserved: frozenset[str]) -> dict:
    if not isinstance(item, dict) or set(item) - {"name", "weight", "target_ids"}:
        raise _bad(f"{where} must be {{name, weight, target_ids}}", where)
    name = item.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= _NAME_MAX:
        raise _bad(f"{where}.name must be 1-{_NAME_MAX} characters", f"{where}.name")
    weight = item.get("weight", 1)
    if not isinstance(weight, int) or isinstance(weight, bool) or not 0 <= weight <= 1000:
        raise _bad(f"{where}.weight must be an integer 0-1000", f"{where}.weight")
    ids = item.get("target_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(t, str) for t in ids):
        raise _bad(f"{where}.target_ids must be a non-empty list of target ids", f"{where}.target_ids")
    for tid in ids:
        if tid not in known:
            raise _bad(f"{where}.target_ids: no such target on this live code: {tid[:16]}",
                       f"{where}.target_ids")
        if tid in reserved:
            raise _bad(f"{where}.target_ids: {tid} is reserved by an audience rule",
                       f"{where}.target_ids")
    return {"name": name.strip(), "weight": weight, "target_ids": list(dict.fromkeys(ids))}


def parse_winner(body: Any, exp: Experiment | None) -> str:
    if exp is None:
        raise Conflict("this live code runs no experiment", code=NO_EXPERIMENT)
    if not isinstance(body, dict) or set(body) - {"arm"} or not isinstance(body.get("arm"), str):
        raise _bad("body must be {\"arm\": \"<arm name>\"}", "arm")
    if body["arm"] not in {a.name for a in exp.arms}:
        raise _bad(f"no arm named {body['arm'][:32]!r}", "arm")
    return body["arm"]


def _bad(message: str, field: str) -> ValidationFailed:
    return ValidationFailed(message, code=INVALID_EXPERIMENT, field=field)
