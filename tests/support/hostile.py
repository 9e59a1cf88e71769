"""Hypothesis strategies for the hostile inputs a schema-driven fuzzer does not think of (issue
12): lone UTF-16 surrogates inside any string, absurdly deep nesting, times that overflow when
moved to UTC, and crons that never fire. Used by the schemathesis hooks (tests/e2e/st_hooks.py)
and by the direct API test (tests/api/test_hostile_fuzz.py)."""
from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

DEEP_MARKER = "__yutang_deep_nesting__"  # a body the hooks send as raw, too deep for json.dumps

lone_surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
surrogate_text = st.tuples(st.text(max_size=5), lone_surrogates, st.text(max_size=5)).map("".join)

EXTREME_TIMES = ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z",
                 "0001-01-01T00:00:00Z", "9999-12-31T12:00:00+00:00"]
extreme_times = st.one_of(
    st.sampled_from(EXTREME_TIMES),
    st.builds(lambda y, off: f"{y:04d}-12-31T23:59:59{off}" if y > 5000 else f"{y:04d}-01-01T00:00:00{off}",
              st.sampled_from([1, 2, 9998, 9999]),
              st.sampled_from(["-12:00", "+14:00", "Z", "-23:59", "+23:59"])))

NEVER_FIRING = ["0 0 30 2 *", "0 0 31 2 *", "0 0 31 4 *", "0 0 31 6 *", "0 0 31 9 *",
                "0 0 31 11 *", "0 0 30,31 2 *", "0 0 31 2,4,6,9,11 *"]
never_firing_crons = st.sampled_from(NEVER_FIRING)

deep_depths = st.sampled_from([65, 200, 1_000, 5_000, 50_000])


def deep_json(depth: int, kind: str = "[") -> str:
    """A JSON object whose ``name`` nests ``depth`` arrays (or objects) deep."""
    inner = "[" * depth + "]" * depth if kind == "[" else '{"a":' * depth + "1" + "}" * depth
    return '{"name": ' + inner + "}"


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    """Every path to a string (value or key) inside a JSON value."""
    found = []
    if isinstance(value, str):
        found.append(path)
    elif isinstance(value, dict):
        for k, v in value.items():
            found.append(path + (("key", k),))
            found.extend(_paths(v, path + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.extend(_paths(v, path + (i,)))
    return found


def _replace(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(head, tuple):  # rename a key
        return {(new if k == head[1] else k): v for k, v in value.items()}
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replace(value[head], rest, new)
    return copy


def _named(value: Any, names: tuple, path: tuple = ()) -> list[tuple]:
    """Paths to values whose key looks like one of ``names`` (``*_at``, ``at``, ``cron``...)."""
    found = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and (k in names or any(k.endswith(n) for n in names if
                                                          n.startswith("_"))):
                found.append(path + (k,))
            found.extend(_named(v, names, path + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.extend(_named(v, names, path + (i,)))
    return found


def with_surrogate(body: Any) -> st.SearchStrategy:
    paths = _paths(body)
    if not paths:
        return st.just({"name": "x\ud800"})
    return st.tuples(st.sampled_from(paths), surrogate_text).map(
        lambda pv: _replace(body, pv[0], pv[1]))


def with_named(body: Any, names: tuple, values: st.SearchStrategy,
               fallback: Any) -> st.SearchStrategy:
    """A value from ``values`` at a key named like ``names``, or added by ``fallback(body, v)``."""
    paths = _named(body, names)
    if not paths:
        return values.map(lambda v: fallback(body if isinstance(body, dict) else {}, v))
    return st.tuples(st.sampled_from(paths), values).map(lambda pv: _replace(body, pv[0], pv[1]))


def hostile_bodies(body: Any) -> st.SearchStrategy:
    """The generated ``body`` turned hostile in one of four ways."""
    return st.one_of(
        with_surrogate(body),
        with_named(body, ("at", "_at"), extreme_times, lambda b, v: {**b, "expires_at": v}),
        with_named(body, ("cron",), never_firing_crons, lambda b, v: {**b, "schedule": {"cron": v}}),
        deep_depths.map(lambda d: {DEEP_MARKER: d}),
    )


def raw_body(body: Any) -> str | None:
    """The raw text to send for a marker body (deep nesting), else None."""
    if isinstance(body, dict) and set(body) == {DEEP_MARKER}:
        depth = body[DEEP_MARKER]
        return deep_json(depth, "[" if depth % 2 else "{")
    return None
