"""The scan: route a visitor to a target, claim its capacity, publish the ``scan`` event.

On a warm container (the code's routing data cached, :mod:`chalicelib.livecodes.cache`): a new
visitor to a target with a capacity costs 2 AWS calls (the claim on a counter shard, the publish),
to a target without one 1 (the publish), a returning visitor 1 (the signed visit cookie is the
sticky record: no read, no write), a bot 1. A cache miss adds one eventually consistent GetItem.
"""
from __future__ import annotations

import itertools
import random
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from chalicelib import clock, events, observability, signing
from chalicelib.analytics import bots
from chalicelib.livecodes import cache, cookies, counters, known, routing
from chalicelib.livecodes.loading import parse_slug, target_by_id, to_rules
from chalicelib.livecodes.models import LiveCode, TargetMap
from chalicelib.secret_store import app_secret
from chalicelib.settings import get_settings

PLACE_ATTEMPTS = 12  # each failed claim teaches the container a full shard: the routing moves on
_rotation = itertools.count()  # round robin per container (no shared write on the request path)


class Placed(NamedTuple):
    target: TargetMap | None
    reason: str
    assigned: bool = False
    claimed: counters.Shard | None = None  # the counter shard after this visitor's claim


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
    """Warm: ≤ 2 AWS calls for a new visitor (claim, publish), 1 for a returning one."""
    now = now or clock.now()
    cfg = get_settings()
    tenant_id, code_id = parse_slug(slug)
    code = cache.code(tenant_id, code_id)
    visit = cookies.read(visitor.cookie_header, code_id, app_secret())
    # A person: a signed visit cookie (never given to a bot) or a mini-program token proves it.
    person = visit is not None or visitor.user_id is not None or visitor.user_agent is None
    bot = None if person else bots.classify(visitor.user_agent)
    if bot is not None:
        return _bot_scan(code, visitor, bot, now, rng)
    today = now.astimezone(ZoneInfo(code.timezone)).date().isoformat()
    placed = Placed(None, "disabled")
    if code.enabled:
        rules = _rules(code, today)
        kept = routing.sticky(rules, visit.target_id, now) if visit else None
        if kept is not None:
            placed = Placed(target_by_id(code, kept.id), "returning")
        elif (visit is None and visitor.ask_location and any(t.store for t in rules.targets)
              and routing.in_windows(rules, now)):
            return ScanResult(code, None, "locate", "", returning=False, assigned=False)  # 1 call
        else:
            previous = visit.target_id if visit else None
            ctx = (known.context(tenant_id, rules, visitor.user_id, visitor.ip, visitor.point,
                                 previous) if routing.has_own_rules(rules) else routing.Context())
            placed = _place(code, rules, now, today, rng, previous, ctx)
    target, reason, assigned = placed.target, placed.reason, placed.assigned
    claimed = placed.claimed
    visitor_id = visit.visitor_id if visit else cookies.new_visitor_id()
    events.publish("scan", {
        "tenant_id": tenant_id, "code_id": code_id, "channel": code.channel,
        "target_id": target.id if target else None, "assigned": assigned, "reason": reason,
        "ref": visitor.ref, "visitor_id": visitor_id, "new_visitor": visit is None,
        "first_today": visit is None or visit.day != today, "day": today,
        "wechat": "micromessenger" in (visitor.user_agent or "").lower(), "at": now.isoformat(),
        "user_id": visitor.user_id, "tags": list(code.tags or []),  # auto-tags: no read later
        "bot": False, "code_tz": code.timezone, "claimed": claimed is not None,
        "warn_at": int(code.warn_threshold),
        "room": None if claimed is None or claimed.cap is None else claimed.cap - claimed.n,
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
    today = now.astimezone(ZoneInfo(code.timezone)).date().isoformat()
    if code.enabled:
        decision = routing.route(_rules(code, today), now, routing.Context(), rng)  # as a stranger
        reason = decision.reason if decision.fallback or decision.target is None else "assigned"
        target = target_by_id(code, decision.target.id) if decision.target else None
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


def _rules(code: LiveCode, today: str) -> routing.Rules:
    """The routing rules with the counts this container knows and its own rotation."""
    counts = {t.id: counters.hinted_counts(code, t, today)
              for t in [*(code.targets or []), *([code.fallback] if code.fallback else [])]
              if counters.limited(t)}
    return to_rules(code, counts, next(_rotation) if code.strategy == "round_robin" else None)


def _place(code: LiveCode, rules: routing.Rules, now: datetime, today: str,
           rng: random.Random | None, previous: str | None,
           ctx: routing.Context = routing.Context()) -> Placed:
    """Route a new visitor and claim the target's capacity (a target without capacity: no
    write). A refused claim means the target is full: route again with what was learnt."""
    for _ in range(PLACE_ATTEMPTS):
        decision = routing.route(rules, now, ctx, rng)
        if decision.target is None:
            return Placed(None, decision.reason)
        reason = decision.reason if decision.fallback else "assigned"
        if decision.target.id == previous:  # parked on the fallback again: already counted
            return Placed(target_by_id(code, previous), decision.reason)
        target = target_by_id(code, decision.target.id)
        if target is None or not counters.limited(target):
            return Placed(target, reason, assigned=True)
        shard = counters.claim(code, target, today, rng)
        if shard is not None:
            return Placed(target, reason, assigned=True, claimed=shard)
        rules = _rules(code, today)
    return Placed(None, "busy")
