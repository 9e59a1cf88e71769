"""A live code's own routing rules as use cases: audience rules, the A/B experiment and its winner.

Rules name saved targets by id, so they are set after the targets exist and each write is
conditioned on the code being the one that was read (``updated_at``): rules are never checked
against a target list someone changed meanwhile. The experiment's figures come from the insight
counters per target (:func:`chalicelib.analytics.service.code_days`): visitors placed (``ta_``),
企业微信 adds (``tw_``), group joins (``tg_``) and conversions (``cv<lag>_``).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import UpdateError

from chalicelib import clock
from chalicelib.db import condition_failed
from chalicelib.error_codes import CONCURRENT_CHANGE, NO_EXPERIMENT, TARGET_IN_EXPERIMENT
from chalicelib.errors import Conflict
from chalicelib.livecodes import rules_audience, rules_experiment
from chalicelib.livecodes.loading import load
from chalicelib.livecodes.models import LiveCode

MAX_STATS_DAYS = 366
GOAL_COUNTER = {"adds": "tw_", "joins": "tg_"}  # per target: 企业微信 adds, group joins


def set_audience_rules(tenant_id: str, code_id: str, body: Any, now: datetime | None = None) -> dict:
    now = now or clock.now()
    code = load(tenant_id, code_id)
    rules = rules_audience.parse(body, [t.id for t in code.targets or []])
    in_arms = rules_experiment.from_stored(code.experiment)
    taken = rules_audience.reserved(rules_audience.from_stored(rules)) & (
        in_arms.covered() if in_arms else frozenset())
    if taken:
        raise Conflict(f"target {sorted(taken)[0]} is in an experiment arm; end the experiment "
                       "or leave it out", code=TARGET_IN_EXPERIMENT)
    attr = LiveCode.audience_rules
    _write(code, [attr.set(rules) if rules else attr.remove()], now)
    return {"rules": rules}


def set_experiment(tenant_id: str, code_id: str, body: Any, now: datetime | None = None) -> dict:
    """Start (or replace) the code's experiment: no winner yet, figures counted from now."""
    now = now or clock.now()
    code = load(tenant_id, code_id)
    reserved = rules_audience.reserved(rules_audience.from_stored(code.audience_rules)) | {
        t.id for t in code.targets or [] if t.store}  # store targets are reached by place only
    stored = rules_experiment.parse(body, [t.id for t in code.targets or []], reserved)
    stored["started_at"] = now.isoformat()
    _write(code, [LiveCode.experiment.set(stored)], now)
    code.experiment = stored
    return experiment_stats(code, now)


def end_experiment(tenant_id: str, code_id: str, now: datetime | None = None) -> None:
    code = load(tenant_id, code_id)
    _write(code, [LiveCode.experiment.remove()], now or clock.now())


def confirm_winner(tenant_id: str, code_id: str, body: Any, now: datetime | None = None) -> dict:
    """The operator's choice: from now on every new visitor goes to this arm."""
    now = now or clock.now()
    code = load(tenant_id, code_id)
    arm = rules_experiment.parse_winner(body, rules_experiment.from_stored(code.experiment))
    stored = {**code.experiment, "winner": arm, "winner_at": now.isoformat()}
    _write(code, [LiveCode.experiment.set(stored)], now)
    code.experiment = stored
    return experiment_stats(code, now)


def get_experiment(tenant_id: str, code_id: str, now: datetime | None = None) -> dict:
    code = load(tenant_id, code_id)
    if not code.experiment:
        raise Conflict("this live code runs no experiment", code=NO_EXPERIMENT)
    return experiment_stats(code, now or clock.now())


def experiment_stats(code: LiveCode, now: datetime) -> dict:
    """Per arm: visitors placed, goal count, rate, z and p against the first arm; chi-square p."""
    from chalicelib.analytics.service import code_days

    exp = rules_experiment.from_stored(code.experiment)
    if exp is None:
        raise Conflict("this live code runs no experiment", code=NO_EXPERIMENT)
    tz = ZoneInfo(code.timezone)
    last = now.astimezone(tz).date()
    first = max((exp.started_at or now).astimezone(tz).date(),
                last - timedelta(days=MAX_STATS_DAYS - 1))
    totals: dict[str, int] = {}
    for _, counters in code_days(code.tenant_id, code.code_id, first, last):
        for key, value in counters.items():
            totals[key] = totals.get(key, 0) + value
    per_arm = {arm.name: (sum(_goal(totals, exp.goal, t) for t in arm.target_ids),
                          sum(totals.get(f"ta_{t}", 0) for t in arm.target_ids))
               for arm in exp.arms}
    return {**rules_experiment.report(exp, per_arm), "from": first.isoformat(),
            "to": last.isoformat(), "timezone": code.timezone,
            "started_at": code.experiment.get("started_at"),
            "winner_at": code.experiment.get("winner_at")}


def _goal(totals: dict[str, int], goal: str, target_id: str) -> int:
    if goal == "conversions":  # cv<lag>_<target>: converted <lag> days after the add
        suffix = f"_{target_id}"
        return sum(v for k, v in totals.items()
                   if k.startswith("cv") and k.endswith(suffix) and k[2:-len(suffix)].isdigit())
    return totals.get(f"{GOAL_COUNTER[goal]}{target_id}", 0)


def _write(code: LiveCode, actions: list, now: datetime) -> None:
    try:
        code.update(actions=[*actions, LiveCode.updated_at.set(now)],
                    condition=LiveCode.updated_at == code.updated_at)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        raise Conflict("the live code changed meanwhile; retry", code=CONCURRENT_CHANGE) from None
