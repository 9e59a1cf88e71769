"""One round of the tick: settle each due position (finish its wait, end it if its journey was
archived), prefetch in bulk what its step reads, run the step (:mod:`.steps`, :mod:`.sending`,
:mod:`.effects`) and answer the writes (:mod:`.store`) — nothing is written here."""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from chalicelib import channels
from chalicelib.campaigns.smartpush import EXHAUSTED
from chalicelib.journeys import catalog, conditions, effects, positions, sending, store
from chalicelib.journeys import steps as rules
from chalicelib.journeys.models import Position
from chalicelib.settings import get_settings

PAUSE_RECHECK = 900  # a paused journey's people are looked at again this often


class Round:
    """What one round has read: users, cap counters, unsubscribes, contents, send policies."""

    def __init__(self, books: catalog.Catalog, now: datetime) -> None:
        self.books, self.now, self.epoch = books, now, int(now.timestamp())
        self.users: dict[tuple[str, str], dict] = {}
        self.contacts: dict[tuple[str, str], dict] = {}
        self.unsubscribed: set[tuple[str, str]] = set()
        self.contents: dict[str, dict] = {}
        self.policies: dict[tuple, sending.Policy] = {}

    def policy(self, pos: Position, step: dict) -> sending.Policy:
        key = (pos.tenant_id, pos.journey_id, pos.version, step["id"])
        if key not in self.policies:
            tz = self.books.timezone(pos.tenant_id, self.books.journey(pos.tenant_id,
                                                                       pos.journey_id))
            self.policies[key] = sending.Policy(pos.tenant_id, step, tz, self.now)
        return self.policies[key]


def plan_round(work: list[Position], now: datetime, books: catalog.Catalog) -> list[store.Write]:
    rnd = Round(books, now)
    ready, writes = [], []
    for pos in work:
        settled = _settle(pos, rnd)
        if isinstance(settled, store.Write):
            writes.append(settled)
        elif settled is not None:
            ready.append(settled)
    _prefetch(rnd, ready)
    for before, pos, step, stats in ready:
        writes.append(_execute(before, pos, step, stats, rnd))
    return writes


def _settle(pos: Position, rnd: Round) -> Any:
    """(before, position copy, its step, stats so far), a Write (archived, paused), or None."""
    if pos.status != "active":
        return None
    journey = rnd.books.journey(pos.tenant_id, pos.journey_id)
    p, stats = positions.copy(pos), Counter[str]()
    p.rev = int(pos.rev or 0) + 1
    if journey is None or journey.status == "archived":
        stats[f"at:{p.step}"] -= 1
        positions.end(p, "archived", rnd.epoch, stats, "journey archived")
        return store.Write(p.tenant_id, p.journey_id, p, int(pos.rev or 0), stats=stats)
    if journey.status == "paused":
        positions.set_due(p, rnd.epoch + PAUSE_RECHECK)
        return store.Write(p.tenant_id, p.journey_id, p, int(pos.rev or 0))
    steps = rnd.books.version(p.tenant_id, p.journey_id, int(p.version or 1))["steps"]
    step = steps[p.step]
    if p.phase == rules.CLAIMED:  # its caller died: never risk calling twice
        positions.note(p, step["id"], rnd.epoch, "failed: outcome_unknown")
        positions.move(p, step["next"], stats, counted=False)
    elif p.phase in (rules.WAITING, rules.GOT):
        nxt, text = rules.finish(step, p.phase)
        positions.note(p, step["id"], rnd.epoch, text)
        positions.move(p, nxt, stats, counted=False)
    return pos, p, steps[p.step], stats


def _prefetch(rnd: Round, ready: list) -> None:
    from chalicelib.audience import users as audience
    from chalicelib.campaigns import frequency, unsubscribes

    by_tenant: dict[str, dict[str, set[str]]] = {}
    for _, p, step, _ in ready:
        wants = by_tenant.setdefault(p.tenant_id, {"users": set(), "send": set(), "content": set()})
        if step["type"] == "send" or (step["type"] == "branch"
                                      and conditions.needs_user(step["if"])):
            wants["users"].add(p.user_id)
        if step["type"] == "send":
            wants["send"].add(p.user_id)
            wants["content"].update(sending.content_ids([step["message"]]))
    for tenant_id, wants in by_tenant.items():
        if wants["users"]:
            found = audience.get_users(tenant_id, sorted(wants["users"]))
            rnd.users.update({(tenant_id, u): view for u, view in found.items()})
        if wants["send"]:
            send = sorted(wants["send"])
            found = frequency.read(tenant_id, send)
            rnd.contacts.update({(tenant_id, u): item for u, item in found.items()})
            rnd.unsubscribed |= {(tenant_id, u) for u in unsubscribes.unsubscribed(tenant_id, send)}
        rnd.contents.update(sending.load_contents(tenant_id, sorted(wants["content"])))


def _execute(before: Position, p: Position, step: dict, stats: Counter, rnd: Round
             ) -> store.Write:
    if step["type"] == "exit":
        stats[f"n:{step['id']}"] += 1
        positions.end(p, "exited", rnd.epoch, stats, "exit")
        return store.Write(p.tenant_id, p.journey_id, p, int(before.rev or 0), stats=stats)
    out = _outcome(p, step, rnd)
    stats.update(f"{name}:{step['id']}" for name in out.tally)
    if out.choice is not None:
        positions.extend_path(p, step["id"], out.choice, out.arm, stats)
    positions.note(p, step["id"], rnd.epoch, out.note)
    p.steps_run = int(p.steps_run or 0) + (1 if out.counts else 0)
    if out.next is None:
        if out.counts:
            stats[f"n:{step['id']}"] += 1
        p.phase = out.phase
        p.lease = out.due_at if out.phase == rules.CLAIMED else None
        positions.set_due(p, out.due_at)
    else:
        positions.move(p, out.next, stats, out.counts)
        positions.set_due(p, rnd.epoch)
        if _is_exit(p, rnd):  # an exit has no effect: it ends the entry in the same write
            stats[f"n:{p.step}"] += 1
            positions.end(p, "exited", rnd.epoch, stats, "exit")
    if p.steps_run > positions.MAX_STEPS_RUN:
        positions.end(p, "exited", rnd.epoch, stats, "step limit reached")
    return store.Write(p.tenant_id, p.journey_id, p, int(before.rev or 0), out.effects, stats)


def _is_exit(p: Position, rnd: Round) -> bool:
    steps = rnd.books.version(p.tenant_id, p.journey_id, int(p.version or 1))["steps"]
    return bool(steps[p.step]["type"] == "exit")


def _outcome(p: Position, step: dict, rnd: Round) -> rules.Outcome:
    kind = step["type"]
    if kind == "wait":
        tz = rnd.books.timezone(p.tenant_id, rnd.books.journey(p.tenant_id, p.journey_id))
        return rules.wait_start(step, rnd.now, tz)
    if kind == "wait_event":
        return rules.wait_event_start(step, rnd.now)
    if kind == "branch":
        return rules.branch(step, _context(p, rnd))
    if kind == "split":
        return rules.split(step, p.sk)
    if kind == "tag":
        items = effects.tag_items(p.tenant_id, p.user_id, step["add"], step["remove"])
        return rules.Outcome("tagged", next=step["next"], effects=items)
    if kind == "webhook":
        return _claim(rnd, [])
    return _send(p, step, rnd)


def _context(p: Position, rnd: Round) -> conditions.Context:
    user = rnd.users.get((p.tenant_id, p.user_id)) or {}
    return conditions.Context(tags=frozenset(user.get("tags") or ()), stage=user.get("stage"),
                              seen=frozenset(p.seen or {}), properties=dict(p.props or {}))


def _claim(rnd: Round, items: list[dict]) -> rules.Outcome:
    lease = rnd.epoch + get_settings().send_lease_seconds
    return rules.Outcome("claimed", due_at=lease, phase=rules.CLAIMED, effects=items)


def _send(p: Position, step: dict, rnd: Round) -> rules.Outcome:
    policy = rnd.policy(p, step)
    if policy.quiet_until is not None:
        return rules.Outcome("deferred: quiet hours", due_at=int(policy.quiet_until.timestamp()),
                             counts=False, tally=["deferred"])
    key = (p.tenant_id, p.user_id)
    user = rnd.users.get(key)
    reason = ("user_not_found" if user is None else "unsubscribed" if key in rnd.unsubscribed
              else policy.refusal(rnd.contacts.get(key) or {}))
    if reason or user is None:
        return rules.Outcome(f"skipped: {reason}", next=step["next"], tally=[f"skip_{reason}"])
    if not channels.get(step["channel"]).IDEMPOTENT:
        return _claim(rnd, [policy.count(p.tenant_id, p.user_id)])
    body, why, recent = sending.compose(p.tenant_id, step["message"], user, rnd.contents,
                                        rnd.contacts.get(key) or {}, rnd.now)
    if why == EXHAUSTED:
        return rules.Outcome(f"skipped: {why}", next=step["next"], tally=[f"skip_{why}"])
    d = sending.delivery(p.tenant_id, p.journey_id, p.entry_id or "", step)
    items = [sending.outbox_put(d, user, body, rnd.now, why),
             policy.count(p.tenant_id, p.user_id, recent)]
    return rules.Outcome("sent" if why is None else f"sent ({why})", next=step["next"],
                         effects=items, tally=["sent"])
