"""What a batch sends each recipient personally: their profile, and for a smart-push message the
pool item chosen for them (:mod:`chalicelib.campaigns.smartpush`, pool read once per run and
container by :mod:`chalicelib.campaigns.pool`).

A choice is made when a recipient is first claimed and stored on their delivery row (``pick``);
a retried or redone recipient is sent the item their row names, so a retry never changes the
message. The recent sends the choice avoids ride on the contact items the sender reads for caps
anyway, and the send records itself there (:func:`remember`) in the counter write it makes anyway:
smart push adds no read or write per recipient beyond the user profiles (one BatchGet per 100).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chalicelib import channels
from chalicelib.campaigns import frequency, pool, smartpush
from chalicelib.campaigns.batches import State, row
from chalicelib.campaigns.smartpush import Choice
from chalicelib.campaigns.wire import Row, Status


@dataclass
class Personal:
    """Per-recipient parts of a batch: profiles (None: not read) and smart-push choices."""
    profiles: dict[str, dict] | None = None
    choices: dict[str, Choice] = field(default_factory=dict)
    contents: dict[str, dict] = field(default_factory=dict)
    coupons: dict[str, str] = field(default_factory=dict)  # user -> granted code

    def identities(self, user: str) -> dict:
        return ((self.profiles or {}).get(user) or {}).get("identities") or {}

    def content(self, user: str) -> dict | None:
        choice = self.choices.get(user)
        return self.contents.get(choice.content_id) if choice and choice.content_id else None

    def pick(self, user: str) -> dict | None:
        choice = self.choices.get(user)
        return choice.to_record() if choice else None

    def parts(self, user: str) -> dict:
        """The personal fields of the user's delivery row."""
        return {"pick": self.pick(user), "coupon": self.coupons.get(user)}


def smart(d: channels.Delivery) -> bool:
    return bool(d.snapshot.get("pick"))


def pool_key(d: channels.Delivery) -> str:
    return f"{d.campaign_id}:{d.run_id}"


def choose(d: channels.Delivery, state: State, personal: Personal, deliver: list[str],
           again: list[str], known: dict[str, dict], skips: dict[str, Row],
           now: datetime) -> list[str]:
    """Choose for the new claims ``deliver`` (their contacts are in ``known``); ``again`` (retried
    or redone recipients) keep the pick on their row. Recipients with nothing to send are skipped
    (``pool_exhausted``); answers who is still to be delivered."""
    if not smart(d):
        return deliver
    for u in again:
        stored = state.rows.get(u)
        if stored is not None and stored.pick:
            personal.choices[u] = Choice.from_record(stored.pick)
    fresh = deliver + [u for u in again if u not in personal.choices]  # claimed before a pick
    missing = [u for u in fresh if u not in known]
    if missing:
        known.update(frequency.read(d.tenant_id, missing))
    choices, contents = pool.pick(d.tenant_id, d.snapshot["pick"], personal.profiles or {},
                                  {u: known[u] for u in fresh}, now, pool_key(d))
    personal.choices.update(choices)
    personal.contents.update(contents)
    stored_ids = [c.content_id for u, c in personal.choices.items() if u not in choices]
    personal.contents.update(pool.load(d.tenant_id, d.snapshot["pick"]["pool"], pool_key(d))
                             .content([c for c in stored_ids if c]))
    kept = []
    for u in deliver:
        if personal.content(u) is None:
            skips[u] = row(Status.SKIPPED, now, "pool_exhausted", pick=personal.pick(u))
            personal.choices.pop(u, None)
        else:
            kept.append(u)
    return kept


def remember(personal: Personal, user: str, contact: dict, now: datetime) -> dict:
    """The contact item with the user's pick recorded as sent today (unchanged without one)."""
    choice = personal.choices.get(user)
    if choice is None or not choice.content_id:
        return contact
    return smartpush.remember(contact, choice.content_id, pool.day_number(now))


def grant_coupons(d: channels.Delivery, personal: Personal, deliver: list[str],
                  again: list[str], skips: dict[str, Row], now: datetime) -> list[str]:
    """A coupon code per recipient when the message names a pool: granted once per person per
    campaign (a retried recipient gets the code granted before); who finds the pool empty is
    skipped (``coupons_exhausted``). Answers who is still to be delivered."""
    coupon = d.snapshot.get("coupon")
    if not coupon:
        return deliver
    from chalicelib.coupons import service as coupons
    from chalicelib.errors import Conflict, NotFound

    for u in deliver + again:
        try:
            personal.coupons[u] = coupons.grant(d.tenant_id, coupon["pool_id"],
                                                f"campaign:{d.campaign_id}", u).code
        except (Conflict, NotFound):
            if u in deliver:
                skips[u] = row(Status.SKIPPED, now, "coupons_exhausted", pick=personal.pick(u))
    return [u for u in deliver if u in personal.coupons]
