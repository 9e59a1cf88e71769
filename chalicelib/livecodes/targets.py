"""A live code's saved targets: build one from its input, add, update, delete and reorder.

Targets live in a list inside the code's item; each write is conditioned on the target (or the
whole list) being what was read, so an edit never lands on a target someone moved meanwhile.
"""
from __future__ import annotations

import contextlib
import json
from datetime import datetime, timezone
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib import clock, media
from chalicelib.db import condition_failed
from chalicelib.error_codes import CONCURRENT_CHANGE, LIVECODE_NOT_FOUND, TOO_MANY_TARGETS
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.ids import new_id
from chalicelib.livecodes import counters, inputs
from chalicelib.livecodes.expiry import GROUP_QR_LIFETIME, refresh_due
from chalicelib.livecodes.loading import index_of, load
from chalicelib.livecodes.models import MAX_TARGETS, LiveCode, TargetMap
from chalicelib.livecodes.views import target_view, view

COUNTED = {"capacity", "daily_capacity", "assigned"}
REORDER_ATTEMPTS = 6  # scans bump the counters of the list being reordered: re-read and retry


def new_target(tenant_id: str, ti: inputs.TargetInput, now: datetime) -> TargetMap:
    values = dict(ti.values)
    target = TargetMap(id=new_id(8), kind=values.pop("kind"), name=values.pop("name"),
                       created_at=now, assigned=values.pop("assigned", 0) or 0,
                       weight=values.pop("weight", 1), enabled=values.pop("enabled", True))
    for key in ("capacity", "daily_capacity", "backup", "expires_at", "url", "store"):
        if values.get(key) is not None:
            setattr(target, key, values[key])
    apply_image(tenant_id, target, ti, now, explicit_expiry="expires_at" in ti.values)
    if ti.wecom:
        from chalicelib.wecom import ways  # the way itself is made by wecom_ways() at the write

        target.extra = ways.spec_extra(ti.wecom)
    return target


def wecom_ways(tenant_id: str, code_id: str, new_targets: list) -> Any:
    """Context around the write storing new targets: 企业微信-backed ones get their contact/join way
    (and QR image) first; the ways are deleted again if anything fails."""
    new_targets = [t for t in new_targets if t is not None and t.extra]
    if not new_targets:
        return contextlib.nullcontext()
    from chalicelib.wecom import ways

    return ways.attached(tenant_id, code_id, new_targets)


def release_ways(tenant_id: str, gone: list) -> None:
    """Delete the 企业微信 ways of targets that are gone (the per-enterprise quota is finite)."""
    gone = [t for t in gone if t is not None and t.extra]
    if gone:
        from chalicelib.wecom import ways

        ways.release(tenant_id, gone)


def apply_image(tenant_id: str, target: TargetMap, ti: inputs.TargetInput, now: datetime,
                explicit_expiry: bool) -> None:
    if ti.image is None:
        return
    target.image_key = media.put(tenant_id, "img", ti.image.data, ti.image.ext)
    if target.kind == "group" and not explicit_expiry:
        target.expires_at = now + GROUP_QR_LIFETIME


def add_target(tenant_id: str, code_id: str, body: Any, now: datetime | None = None) -> dict:
    now = now or clock.now()
    code = load(tenant_id, code_id)
    if len(code.targets or []) >= MAX_TARGETS:
        raise Conflict(f"a live code holds at most {MAX_TARGETS} targets", code=TOO_MANY_TARGETS)
    target = new_target(tenant_id, inputs.parse_target(body, now=now), now)
    try:
        with wecom_ways(tenant_id, code_id, [target]):
            code.update(actions=[LiveCode.targets.set(LiveCode.targets.append([target])),
                                 LiveCode.updated_at.set(now)],
                        condition=LiveCode.targets.exists())
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        raise NotFound("no such live code", code=LIVECODE_NOT_FOUND) from None
    counters.start(tenant_id, code_id, [target])
    refresh_due(code, now)
    return target_view(target, now, code=code)


def update_target(tenant_id: str, code_id: str, target_id: str, body: Any,
                  now: datetime | None = None) -> dict:
    now = now or clock.now()
    code = load(tenant_id, code_id)
    i = index_of(code, target_id)
    current = code.targets[i]
    ti = inputs.parse_target(body, partial=True, now=now)
    if "kind" in ti.values and ti.values["kind"] != current.kind:
        raise ValidationFailed("a target's kind cannot change; add a new target instead", field="kind")
    path = LiveCode.targets[i]
    actions = [LiveCode.updated_at.set(now)]
    for key, value in ti.values.items():
        if key != "kind":
            actions.append(path[key].remove() if value is None else path[key].set(_dynamo(value)))
    changes: dict = {}
    if ti.wecom is not None or current.extra:
        from chalicelib.wecom import ways  # 企业微信-backed targets: the way is updated first

        changes = ways.update(tenant_id, code_id, current, ti)
        actions.extend(path[key].set(_dynamo(value)) for key, value in changes.items())
    if ti.image is not None:
        probe = TargetMap(kind=current.kind, expires_at=None)
        apply_image(tenant_id, probe, ti, now, explicit_expiry="expires_at" in ti.values)
        actions.append(path["image_key"].set(probe.image_key))
        if probe.expires_at is not None:
            actions.append(path["expires_at"].set(_dynamo(probe.expires_at)))
    if current.kind == "url" and not ti.values.get("url", current.url):
        raise ValidationFailed("a url target needs 'url'", field="url")
    _guarded_update(code, actions, path["id"] == target_id)
    changed = {**ti.values, **changes}
    if COUNTED.intersection(changed):  # the counters' caps follow (and restart on a new base)
        counters.rebase(tenant_id, code_id, target_id, reset="assigned" in changed)
    refresh_due(code, now)
    return target_view(code.targets[i], now, code=code)


def delete_target(tenant_id: str, code_id: str, target_id: str) -> None:
    code = load(tenant_id, code_id)
    i = index_of(code, target_id)
    gone = code.targets[i]
    _guarded_update(code, [LiveCode.targets[i].remove(), LiveCode.updated_at.set(clock.now())],
                    LiveCode.targets[i]["id"] == target_id)
    counters.drop(tenant_id, code_id, [gone])
    release_ways(tenant_id, [gone])


def reorder_targets(tenant_id: str, code_id: str, body: Any, now: datetime | None = None) -> dict:
    """Put the saved targets in the order of ``target_ids`` (a permutation of the current ids):
    the order ``fill`` routes in. The list is written whole, conditioned on the read it came from
    (``seq`` moves with every claim, ``updated_at`` with every edit), so no counter is lost."""
    now = now or clock.now()
    code = load(tenant_id, code_id)
    for _ in range(REORDER_ATTEMPTS):
        ids = inputs.parse_target_order(body, [t.id for t in code.targets or []])
        by_id = {t.id: t for t in code.targets or []}
        try:
            code.update(actions=[LiveCode.targets.set([by_id[i] for i in ids]),
                                 LiveCode.updated_at.set(now)],
                        condition=(LiveCode.seq == int(code.seq or 0))
                        & (LiveCode.updated_at == code.updated_at))
            return view(code)
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
            code = load(tenant_id, code_id)
    raise Conflict("the live code changed meanwhile; retry", code=CONCURRENT_CHANGE)


def _guarded_update(code: LiveCode, actions: list, condition: Any) -> None:
    try:
        code.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        raise Conflict("the live code changed meanwhile; retry", code=CONCURRENT_CHANGE) from None


def _dynamo(value: Any) -> Any:
    """Serialise a value for a document path (paths into lists carry no attribute type)."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": str(value)}
    if isinstance(value, dict):  # a JSONAttribute (e.g. ``store``) is stored as its JSON text
        return {"S": json.dumps(value)}
    if isinstance(value, datetime):
        return {"S": value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")}
    return {"S": str(value)}
