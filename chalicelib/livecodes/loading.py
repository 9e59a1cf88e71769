"""Find a live code: ids and slugs, the consistent read, a target's place, the routing rules."""
from __future__ import annotations

from chalicelib.error_codes import LIVECODE_NOT_FOUND, TARGET_NOT_FOUND
from chalicelib.errors import NotFound
from chalicelib.ids import is_id
from chalicelib.livecodes import routing, rules_audience, rules_experiment, rules_stores
from chalicelib.livecodes.models import LiveCode, TargetMap

TENANT_ID_LEN = CODE_ID_LEN = 8


def slug_for(tenant_id: str, code_id: str) -> str:
    return tenant_id + code_id


def parse_slug(slug: str) -> tuple[str, str]:
    if len(slug or "") != TENANT_ID_LEN + CODE_ID_LEN or not is_id(slug):
        raise NotFound("no such live code", code=LIVECODE_NOT_FOUND)
    return slug[:TENANT_ID_LEN], slug[TENANT_ID_LEN:]


def load(tenant_id: str, code_id: str) -> LiveCode:
    missing = NotFound("no such live code", code=LIVECODE_NOT_FOUND)
    if not is_id(code_id, CODE_ID_LEN):
        raise missing
    return LiveCode.get_or_raise(tenant_id, code_id, missing)


def index_of(code: LiveCode, target_id: str) -> int:
    for i, t in enumerate(code.targets or []):
        if t.id == target_id:
            return i
    raise NotFound("no such target on this live code", code=TARGET_NOT_FOUND)


def target_by_id(code: LiveCode, target_id: str) -> TargetMap | None:
    """A target or the fallback, by id (None when it is gone)."""
    if code.fallback is not None and code.fallback.id == target_id:
        return code.fallback
    return next((t for t in code.targets or [] if t.id == target_id), None)


Counts = dict[str, tuple[int, int]]  # target id -> (assigned, assigned today)


def to_rules(code: LiveCode, counts: Counts | None = None, seq: int | None = None) -> routing.Rules:
    """The routing rules of a stored code; ``counts`` (from the counters) replace the base counts
    stored with the targets, ``seq`` the stored rotation."""
    counts = counts or {}
    return routing.Rules(
        strategy=code.strategy,
        targets=tuple(rule_target(t, counts.get(t.id)) for t in code.targets or []),
        fallback=rule_target(code.fallback, counts.get(code.fallback.id)) if code.fallback else None,
        windows=tuple(routing.parse_window(w) for w in code.windows or []),
        timezone=code.timezone, seq=int(code.seq or 0) if seq is None else seq,
        audience=rules_audience.from_stored(code.audience_rules),
        experiment=rules_experiment.from_stored(code.experiment))


def rule_target(t: TargetMap, counted: tuple[int, int] | None = None) -> routing.Target:
    assigned, today = counted if counted is not None else (int(t.assigned or 0), 0)
    return routing.Target(id=t.id, kind=t.kind, capacity=None if t.capacity is None else int(t.capacity),
                          assigned=assigned, expires_at=t.expires_at,
                          weight=int(t.weight if t.weight is not None else 1),
                          enabled=bool(t.enabled), store=rules_stores.from_stored(t.store),
                          daily_capacity=None if t.daily_capacity is None else int(t.daily_capacity),
                          assigned_today=today, backup=bool(t.backup))
