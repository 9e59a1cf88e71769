"""Live code use cases: CRUD, targets, and the scan (route → claim capacity → publish)."""
from __future__ import annotations

import contextlib
import random
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib import events, media, observability, pagination, signing
from chalicelib.analytics import bots
from chalicelib.db import condition_failed
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.ids import is_id, new_id
from chalicelib.livecodes import cookies, inputs, routing
from chalicelib.livecodes.models import MAX_TARGETS, LiveCode, TargetMap
from chalicelib.secret_store import app_secret
from chalicelib.settings import get_settings

GROUP_QR_LIFETIME = timedelta(days=7)
WARN_AHEAD = timedelta(hours=24)
TENANT_ID_LEN = CODE_ID_LEN = 8
CLAIM_ATTEMPTS = 6


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# ---- keys and loading -------------------------------------------------------------------------

def slug_for(tenant_id: str, code_id: str) -> str:
    return tenant_id + code_id


def parse_slug(slug: str) -> tuple[str, str]:
    if len(slug or "") != TENANT_ID_LEN + CODE_ID_LEN or not is_id(slug):
        raise NotFound("no such live code", code="livecode-not-found")
    return slug[:TENANT_ID_LEN], slug[TENANT_ID_LEN:]


def load(tenant_id: str, code_id: str) -> LiveCode:
    if not is_id(code_id, CODE_ID_LEN):
        raise NotFound("no such live code", code="livecode-not-found")
    try:
        return LiveCode.get(tenant_id, code_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("no such live code", code="livecode-not-found") from None


def to_rules(code: LiveCode) -> routing.Rules:
    return routing.Rules(
        strategy=code.strategy, targets=tuple(_rule_target(t) for t in code.targets or []),
        fallback=_rule_target(code.fallback) if code.fallback else None,
        windows=tuple(routing.parse_window(w) for w in code.windows or []),
        timezone=code.timezone, seq=int(code.seq or 0))


def _rule_target(t: TargetMap) -> routing.Target:
    return routing.Target(id=t.id, kind=t.kind, capacity=None if t.capacity is None else int(t.capacity),
                          assigned=int(t.assigned or 0), expires_at=t.expires_at,
                          weight=int(t.weight if t.weight is not None else 1),
                          enabled=bool(t.enabled))


# ---- views ------------------------------------------------------------------------------------

def scan_url(code: LiveCode) -> str:
    return f"{get_settings().public_url}/s/{slug_for(code.tenant_id, code.code_id)}"


def target_status(t: TargetMap, now: datetime) -> str:
    rt = _rule_target(t)
    if not rt.enabled:
        return "disabled"
    if rt.expired(now):
        return "expired"
    return "full" if rt.full() else "active"


def target_view(t: TargetMap, now: datetime | None = None) -> dict:
    now = now or utcnow()
    return {"id": t.id, "kind": t.kind, "name": t.name, "image_url": media.public_url(t.image_key),
            "url": t.url, "capacity": None if t.capacity is None else int(t.capacity),
            "assigned": int(t.assigned or 0),
            "expires_at": t.expires_at.isoformat() if t.expires_at else None,
            "weight": int(t.weight if t.weight is not None else 1), "enabled": bool(t.enabled),
            "status": target_status(t, now), "created_at": t.created_at.isoformat(),
            "wecom": (t.extra or {}).get("wecom")}  # the 企业微信 way behind the target, if any


def view(code: LiveCode) -> dict:
    now = utcnow()
    rules = to_rules(code)
    base = f"{get_settings().public_url}/v1/livecodes/{code.code_id}"
    return {
        "id": code.code_id, "slug": slug_for(code.tenant_id, code.code_id), "name": code.name,
        "title": code.title,
        "channel": code.channel, "strategy": code.strategy, "timezone": code.timezone,
        "enabled": bool(code.enabled), "windows": code.windows or [],
        "warn_threshold": int(code.warn_threshold), "has_logo": bool(code.logo_key),
        "welcome": code.welcome, "tags": list(code.tags or []), "scan_url": scan_url(code),
        "qr_url": f"{base}/qr",
        "targets": [target_view(t, now) for t in code.targets or []],
        "fallback": target_view(code.fallback, now) if code.fallback else None,
        "remaining_capacity": routing.remaining_capacity(rules, now),
        "created_at": code.created_at.isoformat(), "updated_at": code.updated_at.isoformat(),
    }


# ---- CRUD -------------------------------------------------------------------------------------

def _new_target(tenant_id: str, ti: inputs.TargetInput, now: datetime) -> TargetMap:
    values = dict(ti.values)
    target = TargetMap(id=new_id(8), kind=values.pop("kind"), name=values.pop("name"),
                       created_at=now, assigned=values.pop("assigned", 0) or 0,
                       weight=values.pop("weight", 1), enabled=values.pop("enabled", True))
    for key in ("capacity", "expires_at", "url"):
        if values.get(key) is not None:
            setattr(target, key, values[key])
    _apply_image(tenant_id, target, ti, now, explicit_expiry="expires_at" in ti.values)
    if ti.wecom:
        from chalicelib.wecom import ways  # the way itself is made by _wecom_ways() at the write

        target.extra = ways.spec_extra(ti.wecom)
    return target


def _wecom_ways(tenant_id: str, code_id: str, new_targets: list) -> Any:
    """Context around the write storing new targets: 企业微信-backed ones get their contact/join way
    (and QR image) first; the ways are deleted again if anything fails."""
    new_targets = [t for t in new_targets if t is not None and t.extra]
    if not new_targets:
        return contextlib.nullcontext()
    from chalicelib.wecom import ways

    return ways.attached(tenant_id, code_id, new_targets)


def _release_ways(tenant_id: str, gone: list) -> None:
    """Delete the 企业微信 ways of targets that are gone (the per-enterprise quota is finite)."""
    gone = [t for t in gone if t is not None and t.extra]
    if gone:
        from chalicelib.wecom import ways

        ways.release(tenant_id, gone)


def _apply_image(tenant_id: str, target: TargetMap, ti: inputs.TargetInput, now: datetime,
                 explicit_expiry: bool) -> None:
    if ti.image is None:
        return
    target.image_key = media.put(tenant_id, "img", ti.image.data, ti.image.ext)
    if target.kind == "group" and not explicit_expiry:
        target.expires_at = now + GROUP_QR_LIFETIME  # personal-WeChat group QR images live 7 days


def create(tenant_id: str, body: dict, now: datetime | None = None) -> dict:
    now = now or utcnow()
    values, target_inputs, fallback = inputs.parse_code(body)
    _check_welcome(tenant_id, values.get("welcome"))
    code = LiveCode(tenant_id=tenant_id, code_id=new_id(CODE_ID_LEN), name=values["name"],
                    title=values.get("title"),
                    channel=values["channel"], strategy=values.get("strategy", "fill"),
                    timezone=values.get("timezone") or get_settings().default_timezone,
                    enabled=values.get("enabled", True),
                    warn_threshold=values.get("warn_threshold", 20), windows=values.get("windows"),
                    welcome=values.get("welcome"), tags=values.get("tags") or None,
                    created_at=now, updated_at=now, seq=0)
    code.targets = [_new_target(tenant_id, ti, now) for ti in target_inputs]
    if fallback not in (None, ...):
        code.fallback = _new_target(tenant_id, fallback, now)
    if values.get("logo") is not None:
        code.logo_key = media.put(tenant_id, "logo", values["logo"].data, values["logo"].ext)
    _set_due(code, now)
    with _wecom_ways(tenant_id, code.code_id, [*code.targets, code.fallback]):
        code.save(condition=LiveCode.code_id.does_not_exist())
    return view(code)


def _check_welcome(tenant_id: str, welcome: dict | None) -> None:
    """A welcome's content item must be this tenant's (as a campaign's message is)."""
    content_id = (welcome or {}).get("content_id")
    if not content_id:
        return
    from chalicelib.content import service as content

    try:
        content.load(tenant_id, content_id)
    except NotFound:
        raise ValidationFailed(f"no such content item: {content_id[:64]}", code="content-not-found",
                               field="welcome.content_id") from None


def get(tenant_id: str, code_id: str) -> dict:
    return view(load(tenant_id, code_id))


def list_codes(tenant_id: str, limit: int, cursor: str | None) -> dict:
    return pagination.by_tenant(LiveCode, tenant_id, limit, cursor, view, CODE_ID_LEN)


def update(tenant_id: str, code_id: str, body: dict, now: datetime | None = None) -> dict:
    now = now or utcnow()
    code = load(tenant_id, code_id)
    values, _, fallback = inputs.parse_code(body, partial=True)
    _check_welcome(tenant_id, values.get("welcome"))
    actions = [LiveCode.updated_at.set(now)]
    for key in ("name", "channel", "strategy", "timezone", "enabled", "warn_threshold"):
        if key in values:
            actions.append(getattr(LiveCode, key).set(values[key]))
    for key in ("title", "windows", "welcome", "tags"):
        if key in values:
            attr = getattr(LiveCode, key)
            actions.append(attr.set(values[key]) if values[key] else attr.remove())
    if "logo" in values:
        logo = values["logo"]
        actions.append(LiveCode.logo_key.set(media.put(tenant_id, "logo", logo.data, logo.ext))
                       if logo else LiveCode.logo_key.remove())
    old_fallback, new_fallback = code.fallback, None
    if fallback is None:
        actions.append(LiveCode.fallback.remove())
    elif fallback is not ...:
        new_fallback = _new_target(tenant_id, fallback, now)
        actions.append(LiveCode.fallback.set(new_fallback))
    with _wecom_ways(tenant_id, code_id, [new_fallback]):
        code.update(actions=actions)
    if fallback is not ...:
        _release_ways(tenant_id, [old_fallback])
    return view(load(tenant_id, code_id))


def delete(tenant_id: str, code_id: str) -> None:
    code = load(tenant_id, code_id)
    code.delete()
    _release_ways(tenant_id, [*(code.targets or []), code.fallback])


# ---- targets ----------------------------------------------------------------------------------

def _index_of(code: LiveCode, target_id: str) -> int:
    for i, t in enumerate(code.targets or []):
        if t.id == target_id:
            return i
    raise NotFound("no such target on this live code", code="target-not-found")


def add_target(tenant_id: str, code_id: str, body: Any, now: datetime | None = None) -> dict:
    now = now or utcnow()
    code = load(tenant_id, code_id)
    if len(code.targets or []) >= MAX_TARGETS:
        raise Conflict(f"a live code holds at most {MAX_TARGETS} targets", code="too-many-targets")
    target = _new_target(tenant_id, inputs.parse_target(body, now=now), now)
    try:
        with _wecom_ways(tenant_id, code_id, [target]):
            code.update(actions=[LiveCode.targets.set(LiveCode.targets.append([target])),
                                 LiveCode.updated_at.set(now)],
                        condition=LiveCode.targets.exists())
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        raise NotFound("no such live code", code="livecode-not-found") from None
    _refresh_due(code, now)
    return target_view(target, now)


def update_target(tenant_id: str, code_id: str, target_id: str, body: Any,
                  now: datetime | None = None) -> dict:
    now = now or utcnow()
    code = load(tenant_id, code_id)
    i = _index_of(code, target_id)
    current = code.targets[i]
    ti = inputs.parse_target(body, partial=True, now=now)
    if "kind" in ti.values and ti.values["kind"] != current.kind:
        raise ValidationFailed("a target's kind cannot change; add a new target instead", field="kind")
    path = LiveCode.targets[i]
    actions = [LiveCode.updated_at.set(now)]
    for key, value in ti.values.items():
        if key == "kind":
            continue
        if value is None:
            actions.append(path[key].remove())
        else:
            actions.append(path[key].set(_dynamo(value)))
    if ti.wecom is not None or current.extra:
        from chalicelib.wecom import ways  # 企业微信-backed targets: the way is updated first

        changes = ways.update(tenant_id, code_id, current, ti)
        actions.extend(path[key].set(_dynamo(value)) for key, value in changes.items())
    if ti.image is not None:
        probe = TargetMap(kind=current.kind, expires_at=None)
        _apply_image(tenant_id, probe, ti, now, explicit_expiry="expires_at" in ti.values)
        actions.append(path["image_key"].set(probe.image_key))
        if probe.expires_at is not None:
            actions.append(path["expires_at"].set(_dynamo(probe.expires_at)))
    merged_kind_url = ti.values.get("url", current.url)
    if current.kind == "url" and not merged_kind_url:
        raise ValidationFailed("a url target needs 'url'", field="url")
    _guarded_update(code, actions, path["id"] == target_id)
    _refresh_due(code, now)
    return target_view(code.targets[i], now)


def delete_target(tenant_id: str, code_id: str, target_id: str) -> None:
    code = load(tenant_id, code_id)
    i = _index_of(code, target_id)
    gone = code.targets[i]
    _guarded_update(code, [LiveCode.targets[i].remove(), LiveCode.updated_at.set(utcnow())],
                    LiveCode.targets[i]["id"] == target_id)
    _release_ways(tenant_id, [gone])


def _guarded_update(code: LiveCode, actions: list, condition: Any) -> None:
    try:
        code.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        raise Conflict("the live code changed meanwhile; retry", code="concurrent-change") from None


def _dynamo(value: Any) -> Any:
    """Serialise a value for a document path (paths into lists carry no attribute type)."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": str(value)}
    if isinstance(value, datetime):
        return {"S": value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")}
    return {"S": str(value)}


# ---- expiry warnings index ----------------------------------------------------------------------

def expiry_key(t: TargetMap) -> str:
    return f"expiring:{t.id}:{int(t.expires_at.timestamp())}"


def next_due(code: LiveCode, now: datetime) -> int | None:
    """When the tick should next look at this code: 24 h before its next unwarned expiry."""
    warned = code.warned or set()
    times = [int((t.expires_at - WARN_AHEAD).timestamp()) for t in code.targets or []
             if t.enabled and t.expires_at is not None and t.expires_at > now
             and expiry_key(t) not in warned]
    return min(times) if times else None


def _set_due(code: LiveCode, now: datetime) -> None:
    due = next_due(code, now)
    code.due_pk, code.due_at = ("due", due) if due is not None else (None, None)


def _refresh_due(code: LiveCode, now: datetime) -> None:
    """Move the code in the due index after a change; ``code`` is fresh (PynamoDB's update() loads
    DynamoDB's ALL_NEW answer into the model), so nothing is read again."""
    due = next_due(code, now)
    if due == code.due_at:
        return
    code.update(actions=[LiveCode.due_pk.set("due"), LiveCode.due_at.set(due)] if due is not None
                else [LiveCode.due_pk.remove(), LiveCode.due_at.remove()])


# ---- scans ------------------------------------------------------------------------------------

class Visitor(NamedTuple):
    cookie_header: str = ""
    user_agent: str | None = None  # None: not known (internal callers)
    ref: str | None = None
    user_id: str | None = None  # a mini-program user (from their mp token), for attribution
    ip: str = ""  # the client's address: only a keyed hash of it leaves this module


class ScanResult(NamedTuple):
    code: LiveCode
    target: TargetMap | None
    reason: str
    set_cookie: str
    returning: bool
    assigned: bool


def scan(slug: str, visitor: Visitor, now: datetime | None = None,
         rng: random.Random | None = None) -> ScanResult:
    """≤ 3 AWS calls for a new visitor (read, conditional claim, publish), 2 for a returning one."""
    now = now or utcnow()
    cfg = get_settings()
    tenant_id, code_id = parse_slug(slug)
    code = load(tenant_id, code_id)
    visit = cookies.read(visitor.cookie_header, code_id, app_secret())
    # A person: a signed visit cookie (never given to a bot) or a mini-program token proves it.
    person = visit is not None or visitor.user_id is not None or visitor.user_agent is None
    bot = None if person else bots.classify(visitor.user_agent)
    if bot is not None:
        return _bot_scan(code, visitor, bot, now, rng)
    today = now.astimezone(ZoneInfo(code.timezone)).date().isoformat()
    target, reason, assigned = None, "disabled", False
    if code.enabled:
        rules = to_rules(code)
        kept = routing.sticky(rules, visit.target_id, now) if visit else None
        if kept is not None:
            target, reason = _target_by_id(code, kept.id), "returning"
        else:
            previous = visit.target_id if visit else None
            code, target, reason, assigned = _claim(code, rules, now, rng, previous)
    visitor_id = visit.visitor_id if visit else cookies.new_visitor_id()
    events.publish("scan", {
        "tenant_id": tenant_id, "code_id": code_id, "channel": code.channel,
        "target_id": target.id if target else None, "assigned": assigned, "reason": reason,
        "ref": visitor.ref, "visitor_id": visitor_id, "new_visitor": visit is None,
        "first_today": visit is None or visit.day != today, "day": today,
        "wechat": "micromessenger" in (visitor.user_agent or "").lower(), "at": now.isoformat(),
        "user_id": visitor.user_id, "tags": list(code.tags or []),  # auto-tags: no read later
        "bot": False, "code_tz": code.timezone,
        "ip": signing.sign(app_secret(), f"ip|{visitor.ip}", 12) if visitor.ip else None})
    observability.metric("scans", 1, result=_scan_result(reason, target is not None))
    new_visit = cookies.Visit(visitor_id, target.id if target else "-", today)
    cookie = cookies.write(code_id, new_visit, app_secret(), "/", cfg.secure_cookies)
    return ScanResult(code, target, reason, cookie, returning=visit is not None, assigned=assigned)


def _bot_scan(code: LiveCode, visitor: Visitor, bot: str, now: datetime,
              rng: random.Random | None) -> ScanResult:
    """A crawler, link preview or health check: answered with the target the routing would choose
    (so a preview shows the right page) but nothing is claimed, no cookie is set, and the event is
    marked ``bot`` so the numbers leave it out. 2 AWS calls (read, publish)."""
    target, reason = None, "disabled"
    if code.enabled:
        decision = routing.choose(to_rules(code), now, rng)
        reason = decision.reason if decision.fallback or decision.target is None else "assigned"
        target = _target_by_id(code, decision.target.id) if decision.target else None
    today = now.astimezone(ZoneInfo(code.timezone)).date().isoformat()
    events.publish("scan", {
        "tenant_id": code.tenant_id, "code_id": code.code_id, "channel": code.channel,
        "target_id": target.id if target else None, "assigned": False, "reason": reason,
        "ref": visitor.ref, "visitor_id": None, "new_visitor": False, "first_today": False,
        "day": today, "wechat": False, "at": now.isoformat(), "user_id": None, "tags": [],
        "bot": True, "bot_name": bot, "code_tz": code.timezone})
    observability.metric("scans", 1, result="bot")
    return ScanResult(code, target, reason, "", returning=False, assigned=False)


def _scan_result(reason: str, answered: bool) -> str:
    if reason in ("assigned", "returning"):
        return reason
    return "fallback" if answered else "unavailable"


def _target_by_id(code: LiveCode, target_id: str) -> TargetMap | None:
    if code.fallback is not None and code.fallback.id == target_id:
        return code.fallback
    return next((t for t in code.targets or [] if t.id == target_id), None)


def _claim(code: LiveCode, rules: routing.Rules, now: datetime, rng: random.Random | None,
           previous: str | None) -> tuple[LiveCode, TargetMap | None, str, bool]:
    for _ in range(CLAIM_ATTEMPTS):
        decision = routing.choose(rules, now, rng)
        if decision.target is None:
            return code, None, decision.reason, False
        if decision.target.id == previous:  # parked on the fallback again: already counted
            return code, _target_by_id(code, previous), decision.reason, False
        try:
            _claim_write(code, decision)
            reason = decision.reason if decision.fallback else "assigned"
            return code, _target_by_id(code, decision.target.id), reason, True
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
            code = load(code.tenant_id, code.code_id)  # lost a race: someone filled it or edited
            rules = to_rules(code)
    return code, None, "busy", False


def _claim_write(code: LiveCode, decision: routing.Decision) -> None:
    """Place one visitor: +1 on the target's counter, only if it is still the same, enabled target
    with the same capacity and room left (DynamoDB evaluates this atomically per item)."""
    target = decision.target
    if decision.fallback:
        cond = LiveCode.fallback.id == target.id
        if target.capacity:
            cond &= LiveCode.fallback.assigned < target.capacity
        code.update(actions=[LiveCode.fallback.assigned.add(1)], condition=cond)
        return
    path = LiveCode.targets[_index_of(code, target.id)]
    cond = (path["id"] == target.id) & (path["enabled"] == {"BOOL": True})
    if target.capacity:
        cap = {"N": str(target.capacity)}
        cond &= (path["capacity"] == cap) & (path["assigned"] < cap)
    code.update(actions=[path["assigned"].add({"N": "1"}), LiveCode.seq.add(1)], condition=cond)


# ---- QR images --------------------------------------------------------------------------------

def qr_image(tenant_id: str, code_id: str, params: dict) -> tuple[bytes, str]:
    """The code's QR as PNG or SVG, rendered once per parameter set and cached in S3."""
    from chalicelib import qr

    code = load(tenant_id, code_id)
    style = qr.parse_style(params)
    with_logo = params.get("logo", "0") in ("1", "true")
    if with_logo and not code.logo_key:
        raise ValidationFailed("this live code has no logo; PATCH it with 'logo' first",
                               code="logo-not-set", field="logo")
    logo_key = code.logo_key if with_logo else None
    name = style.cache_name(scan_url(code), logo_key)
    content_type = "image/png" if style.fmt == "png" else "image/svg+xml"
    cached = media.get(media.object_key(tenant_id, "qr", name))
    if cached is not None:
        return cached, content_type
    logo = media.get(logo_key) if logo_key else None
    if style.fmt == "png":
        data = qr.render_png(scan_url(code), style, logo)
    else:
        logo_type = "image/jpeg" if logo_key and logo_key.endswith(".jpg") else "image/png"
        data = qr.render_svg(scan_url(code), style, logo, logo_type).encode()
    media.put(tenant_id, "qr", data, style.fmt, name=name, cache=True)
    return data, content_type
