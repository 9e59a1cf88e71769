"""The step graph of a journey version (pure): validated on save, walked by the engine.

Steps are a list; the first is where a person starts. Every error names the step and the problem
(``field`` = ``steps.<id>``) with a stable code, so an editor can point at it.
"""
from __future__ import annotations

import re
from typing import Any

from chalicelib.errors import ValidationFailed
from chalicelib.journeys import conditions

STEP_TYPES = ("wait", "branch", "wait_event", "send", "tag", "webhook", "split", "exit")
WAITS = ("wait", "wait_event")  # the steps that let time pass (a cycle needs one)
CHANNELS = ("outbox", "webhook", "wecom")
MAX_STEPS = 100
MAX_ARMS = 10
MAX_WAIT_SECONDS = 366 * 24 * 3600
_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def fail(step: str | None, message: str, code: str) -> ValidationFailed:
    where = f"steps.{step}" if step else "steps"
    return ValidationFailed(f"step {step!r}: {message}" if step else message, code=code,
                            field=where)


def check_steps(steps: Any) -> list[dict]:
    """The steps, normalised, or a 400 naming the first problem found."""
    if not isinstance(steps, list) or not steps:
        raise fail(None, "'steps' must be a non-empty list", "invalid-journey")
    if len(steps) > MAX_STEPS:
        raise fail(None, f"a journey has at most {MAX_STEPS} steps", "invalid-journey")
    clean, seen = [], set()
    for raw in steps:
        sid = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(sid, str) or not _ID.match(sid):
            raise fail(None, "every step needs an 'id' of 1-40 letters, digits, _ or -",
                       "invalid-journey")
        if sid in seen:
            raise fail(sid, "the id is used twice", "journey-duplicate-step")
        seen.add(sid)
        clean.append(_check_step(sid, raw))
    by_id = {s["id"]: s for s in clean}
    for step in clean:
        for target in successors(step):
            if target not in by_id:
                raise fail(step["id"], f"leads to unknown step {target!r}", "journey-unknown-step")
    _check_reachable(clean, by_id)
    _check_exits(clean, by_id)
    _check_cycles(clean, by_id)
    return clean


def successors(step: dict) -> list[str]:
    kind = step["type"]
    if kind == "exit":
        return []
    if kind == "branch":
        return [step["then"], step["else"]]
    if kind == "split":
        return [arm["next"] for arm in step["arms"]]
    if kind == "wait_event":
        return [step["next"], step["timeout"]]
    return [step["next"]]


def _check_step(sid: str, raw: dict) -> dict:
    kind = raw.get("type")
    if kind not in STEP_TYPES:
        raise fail(sid, f"unknown step type {kind!r}; one of: {', '.join(STEP_TYPES)}",
                   "journey-unknown-step-type")
    step: dict[str, Any] = {"id": sid, "type": kind}
    if kind == "exit":
        return step
    for key in _NEXT_KEYS.get(kind, ("next",)):
        target = raw.get(key)
        if not isinstance(target, str) or not target:
            raise fail(sid, f"needs '{key}' (the step that follows; end a path with an exit "
                            "step)", "journey-missing-exit")
        step[key] = target
    try:
        step.update(_CHECKS[kind](raw))
    except (conditions.ConditionError, ValueError, TypeError) as exc:
        raise fail(sid, str(exc), "invalid-journey-step") from None
    return step


_NEXT_KEYS = {"branch": ("then", "else"), "split": (), "wait_event": ("next", "timeout")}


def _wait(raw: dict) -> dict:
    if "until" in raw:
        if not isinstance(raw["until"], str) or not _HHMM.match(raw["until"]):
            raise ValueError("'until' must be a local time HH:MM (in the journey's timezone)")
        return {"until": raw["until"]}
    seconds = _seconds(raw)
    if seconds is None:
        raise ValueError("a wait needs 'seconds', 'minutes', 'hours' or 'days', or 'until' (HH:MM)")
    return {"seconds": seconds}


def _seconds(raw: dict, prefix: str = "") -> int | None:
    total = None
    for unit, factor in (("seconds", 1), ("minutes", 60), ("hours", 3600), ("days", 86400)):
        value = raw.get(prefix + unit)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"'{prefix + unit}' must be a whole number ≥ 0")
        total = (total or 0) + value * factor
    if total is not None and not 0 < total <= MAX_WAIT_SECONDS:
        raise ValueError("a wait lasts from 1 second to 366 days")
    return total


def _branch(raw: dict) -> dict:
    return {"if": conditions.check(raw.get("if"))}


def _wait_event(raw: dict) -> dict:
    event = raw.get("event")
    if not isinstance(event, str) or not event:
        raise ValueError("'event' must name the event type waited for")
    timeout = _seconds(raw, "timeout_")
    if timeout is None:
        raise ValueError("a wait_event needs 'timeout_seconds', 'timeout_minutes', "
                         "'timeout_hours' or 'timeout_days'")
    return {"event": conditions.alias(event), "timeout_seconds": timeout}


def _send(raw: dict) -> dict:
    channel = raw.get("channel", "outbox")
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; one of: {', '.join(CHANNELS)}")
    message = raw.get("message")
    if not isinstance(message, dict) or not any(message.get(k) for k in ("text", "content_id",
                                                                          "pick")):
        raise ValueError("'message' needs 'text', 'content_id' or a smart-push 'pick'")
    if message.get("text") is not None and (not isinstance(message["text"], str)
                                            or len(message["text"]) > 2000):
        raise ValueError("'message.text' is a string of at most 2000 characters")
    out = {"channel": channel, "message": message}
    for key in ("caps", "quiet_hours", "webhook_url"):
        if key in raw:
            out[key] = raw[key]
    return out


def _tag(raw: dict) -> dict:
    add, remove = raw.get("add") or [], raw.get("remove") or []
    for name, value in (("add", add), ("remove", remove)):
        if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
            raise ValueError(f"'{name}' must be a list of tags")
    if bool(add) == bool(remove):
        raise ValueError("a tag step needs 'add' or 'remove' (one per step: use two steps)")
    return {"add": sorted({t.strip().lower() for t in add}),
            "remove": sorted({t.strip().lower() for t in remove})}


def _webhook(raw: dict) -> dict:
    url = raw.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise ValueError("'url' must be an http(s) URL")
    return {"url": url}


def _split(raw: dict) -> dict:
    arms = raw.get("arms")
    if not isinstance(arms, list) or not 2 <= len(arms) <= MAX_ARMS:
        raise ValueError(f"a split needs 2-{MAX_ARMS} 'arms'")
    clean, names = [], set()
    for arm in arms:
        if not isinstance(arm, dict):
            raise ValueError("each arm is {name, weight, next}")
        name, weight, nxt = arm.get("name"), arm.get("weight"), arm.get("next")
        if not isinstance(name, str) or not _ID.match(name) or name in names:
            raise ValueError("each arm needs a unique 'name' (letters, digits, _ or -)")
        if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 10_000:
            raise ValueError(f"arm {name!r}: 'weight' must be a whole number 1-10000")
        if not isinstance(nxt, str) or not nxt:
            raise ValueError(f"arm {name!r} needs 'next'")
        names.add(name)
        clean.append({"name": name, "weight": weight, "next": nxt})
    return {"arms": clean}


_CHECKS = {"wait": _wait, "branch": _branch, "wait_event": _wait_event, "send": _send,
           "tag": _tag, "webhook": _webhook, "split": _split}


def _check_reachable(steps: list[dict], by_id: dict[str, dict]) -> None:
    seen, todo = set(), [steps[0]["id"]]
    while todo:
        sid = todo.pop()
        if sid not in seen:
            seen.add(sid)
            todo.extend(successors(by_id[sid]))
    for step in steps:
        if step["id"] not in seen:
            raise fail(step["id"], "is unreachable from the first step", "journey-unreachable-step")


def _check_exits(steps: list[dict], by_id: dict[str, dict]) -> None:
    """Every step can still reach an exit (else a person would loop for ever)."""
    ending = {s["id"] for s in steps if s["type"] == "exit"}
    if not ending:
        raise fail(None, "a journey needs at least one exit step", "journey-missing-exit")
    changed = True
    while changed:
        changed = False
        for step in steps:
            if step["id"] not in ending and any(t in ending for t in successors(step)):
                ending.add(step["id"])
                changed = True
    for step in steps:
        if step["id"] not in ending:
            raise fail(step["id"], "no path from here reaches an exit step", "journey-missing-exit")


def _check_cycles(steps: list[dict], by_id: dict[str, dict]) -> None:
    """A cycle must pass a wait (else a person would run it without end in one tick)."""
    instant = {s["id"] for s in steps if s["type"] not in WAITS}
    state: dict[str, int] = {}

    def visit(sid: str) -> None:
        state[sid] = 1
        for nxt in successors(by_id[sid]):
            if nxt not in instant:
                continue
            if state.get(nxt) == 1:
                raise fail(nxt, "is on a cycle without a wait step", "journey-cycle-without-wait")
            if nxt not in state:
                visit(nxt)
        state[sid] = 2

    for step in steps:
        if step["id"] in instant and step["id"] not in state:
            visit(step["id"])


def index(steps: list[dict]) -> dict[str, dict]:
    return {s["id"]: s for s in steps}
