"""The scan: route a visitor to a target, claim its capacity, publish the ``scan`` event.

≤ 3 AWS calls for a new visitor (read, conditional claim, publish), 2 for a returning one or a bot.
"""
from __future__ import annotations

import random
from datetime import datetime
from typing import NamedTuple, cast
from zoneinfo import ZoneInfo

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError

from chalicelib import clock, events, observability, signing
from chalicelib.analytics import bots
from chalicelib.db import condition_failed
from chalicelib.livecodes import cookies, known, routing
from chalicelib.livecodes.loading import index_of, load, parse_slug, target_by_id, to_rules
from chalicelib.livecodes.models import LiveCode, TargetMap
from chalicelib.secret_store import app_secret
from chalicelib.settings import get_settings

CLAIM_ATTEMPTS = 6


class Visitor(NamedTuple):
    cookie_header: str = ""
    user_agent: str | None = None  # None: not known (internal callers)
    ref: str | None = None
    user_id: str | None = None  # a mini-program user (from their mp token), for attribution
    ip: str = ""  # the client's address: only a keyed hash of it leaves this module
    point: routing.rules_stores.Point | None = None  # the position the visitor shared (store codes)
    ask_location: bool = False  # an HTML scan that may still ask for the position (store codes)


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
    now = now or clock.now()
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
            target, reason = target_by_id(code, kept.id), "returning"
        elif (visit is None and visitor.ask_location and any(t.store for t in rules.targets)
              and routing.in_windows(rules, now)):
            return ScanResult(code, None, "locate", "", returning=False, assigned=False)  # 1 call
        else:
            previous = visit.target_id if visit else None
            ctx = (known.context(tenant_id, rules, visitor.user_id, visitor.ip, visitor.point,
                                 previous) if routing.has_own_rules(rules) else routing.Context())
            code, target, reason, assigned = _claim(code, rules, now, rng, previous, ctx)
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
        decision = routing.route(to_rules(code), now, routing.Context(), rng)  # as a stranger
        reason = decision.reason if decision.fallback or decision.target is None else "assigned"
        target = target_by_id(code, decision.target.id) if decision.target else None
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


def _claim(code: LiveCode, rules: routing.Rules, now: datetime, rng: random.Random | None,
           previous: str | None, ctx: routing.Context = routing.Context(),
           ) -> tuple[LiveCode, TargetMap | None, str, bool]:
    for _ in range(CLAIM_ATTEMPTS):
        decision = routing.route(rules, now, ctx, rng)
        if decision.target is None:
            return code, None, decision.reason, False
        if decision.target.id == previous:  # parked on the fallback again: already counted
            return code, target_by_id(code, previous), decision.reason, False
        try:
            _claim_write(code, decision)
            reason = decision.reason if decision.fallback else "assigned"
            return code, target_by_id(code, decision.target.id), reason, True
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
    if target is None:  # callers return before writing when routing found no target
        raise ValueError("a claim needs a routed target")
    if decision.fallback:
        # On the model class, a MapAttribute's fields are document paths (attributes), but
        # PynamoDB's annotations give them the value's type (str, float): name what they are.
        fallback_id = cast(UnicodeAttribute, LiveCode.fallback.id)
        fallback_assigned = cast(NumberAttribute, LiveCode.fallback.assigned)
        cond = fallback_id == target.id
        if target.capacity:
            cond &= fallback_assigned < target.capacity
        code.update(actions=[fallback_assigned.add(1)], condition=cond)
        return
    path = LiveCode.targets[index_of(code, target.id)]
    cond = (path["id"] == target.id) & (path["enabled"] == {"BOOL": True})
    if target.capacity:
        cap = {"N": str(target.capacity)}
        cond &= (path["capacity"] == cap) & (path["assigned"] < cap)
    code.update(actions=[path["assigned"].add({"N": "1"}), LiveCode.seq.add(1)], condition=cond)
