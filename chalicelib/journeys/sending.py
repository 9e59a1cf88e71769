"""The send step: one message to one person through the campaigns' channels, with the campaigns'
caps, quiet hours and unsubscribes.

:func:`compose` is the one place a step's message spec becomes what a person receives. A fixed
message (``text`` and/or ``content_id``) is resolved here; a smart-push spec (``pick``: a content
pool) is handed to the campaigns' per-recipient picker when it exists — the lead wires it in
:func:`_picker` (docs/journeys.md, "Smart push").

The outbox channel is idempotent and transactional: the outbox item and the cap counters are
effects of the step's own transaction (see :mod:`.store`), so they happen exactly when the step
does. Webhook and 企业微信 sends are external calls: the step is claimed first (with a lease), then
sent, then recorded; a claim whose caller died is recorded ``outcome_unknown`` rather than risking
a second message — the same rule as campaign sends.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from chalicelib import channels, clock
from chalicelib.campaigns import frequency, planning, rules, schedule
from chalicelib.campaigns.models import Contact
from chalicelib.channels import outbox


def delivery(tenant_id: str, journey_id: str, entry_id: str, step: dict, name: str = "") -> Any:
    """The channels' delivery of one journey step (campaign_id: the journey; run_id: entry.step)."""
    snapshot = {"name": name, "channel": step["channel"], "webhook_url": step.get("webhook_url")}
    return channels.Delivery(tenant_id, journey_id, f"{entry_id}.{step['id']}", step["id"],
                             snapshot)


def compose(tenant_id: str, message: dict, user: dict, contents: dict, contact: dict | None = None,
            now: datetime | None = None) -> tuple[dict, str | None, dict | None]:
    """(``{text, content}``, why, remembered) for one recipient. A smart-push spec (``pick``) goes
    to the campaigns' picker (:func:`chalicelib.campaigns.pool.pick`): the item of the pool that
    best fits the person's tags and stage and was not sent to them recently; ``why`` says which and
    why (the outbox item's ``source`` keeps it) and ``remembered`` is the contact's recent-sends
    attribute with this send added (the step's counter write stores it). A fixed message: no why."""
    if message.get("pick"):
        return _pick(tenant_id, message, user, contact or {}, now or clock.now())
    content = contents.get(message["content_id"]) if message.get("content_id") else None
    return {"text": message.get("text"), "content": content}, None, None


def _pick(tenant_id: str, message: dict, user: dict, contact: dict,
          now: datetime) -> tuple[dict, str | None, dict | None]:
    from chalicelib.campaigns import pool, smartpush

    spec = json.dumps(message["pool"], sort_keys=True)
    choices, chosen = pool.pick(tenant_id, message, {user["id"]: user}, {user["id"]: contact}, now,
                                f"journey:{spec}")
    choice = choices[user["id"]]
    if choice.content_id is None:  # nothing left to send: skipped, like a campaign recipient
        return {"text": message.get("text"), "content": None}, smartpush.EXHAUSTED, None
    why = f"{choice.reason} {choice.content_id}"
    if choice.matched:
        why += f" [{','.join(choice.matched)}]"
    remembered = smartpush.remember(contact, choice.content_id, pool.day_number(now))
    return ({"text": message.get("text"), "content": chosen.get(choice.content_id)}, why,
            remembered.get(smartpush.RECENT_ATTR))


def content_ids(messages: list[dict]) -> list[str]:
    ids = []
    for m in messages:
        for key in ("content_id", "fallback_content_id"):
            if m.get(key):
                ids.append(m[key])
    return ids


def load_contents(tenant_id: str, ids: list[str]) -> dict[str, dict]:
    if not ids:
        return {}
    from chalicelib.content import service as content

    found = content.get_items(tenant_id, ids)
    return {cid: {k: item.get(k) for k in ("id", "type", "title", "body", "url")}
            for cid, item in found.items()}


class Policy:
    """Caps, quiet hours and the counters of one send step for one tenant, at one moment."""

    def __init__(self, tenant_id: str, step: dict, tz_name: str, now: datetime) -> None:
        cfg = planning.messaging_settings(tenant_id)
        caps = rules.effective_caps(cfg["caps"], cfg["channel_caps"].get(step["channel"]),
                                    step.get("caps"))
        quiet = step["quiet_hours"] if "quiet_hours" in step else cfg["quiet_hours"]
        self.quiet_until = schedule.quiet_until(now, schedule.quiet_from_stored(quiet or None),
                                                tz_name)
        self.counter = frequency.Counter(step["channel"], caps, now, tz_name)

    def refusal(self, contact: dict) -> str | None:
        return self.counter.refusal(contact, marker="")

    def count(self, tenant_id: str, user_id: str, recent: dict | None = None) -> dict:
        """The counters' transaction item (ADD one to today's and this week's; old ones go);
        ``recent``: smart push's recent-sends attribute to store with them."""
        c = self.counter
        names = {"#d": c.day, "#w": c.week}
        values: dict[str, Any] = {":one": {"N": "1"}}
        expr = "ADD #d :one, #w :one"
        if recent is not None:
            from chalicelib.campaigns.smartpush import RECENT_ATTR

            names["#r"], values[":r"] = RECENT_ATTR, recent
            expr += " SET #r = :r"
        stale = sorted(c.stale)
        if stale:
            names.update({f"#s{n}": s for n, s in enumerate(stale)})
            expr += " REMOVE " + ", ".join(f"#s{n}" for n in range(len(stale)))
        return {"Update": {"TableName": Contact.table_name(),
                           "Key": Contact.key_dict(tenant_id, user_id), "UpdateExpression": expr,
                           "ExpressionAttributeNames": names,
                           "ExpressionAttributeValues": values}}


def outbox_put(d: Any, user: dict, body: dict, now: datetime, why: str | None) -> dict:
    recipient = channels.Recipient(user["id"], user.get("identities") or {}, body["text"],
                                   body["content"])
    item = outbox.item(d, recipient, now, source="journey" if why is None else f"journey:{why}")
    return {"Put": {"TableName": item.table_name(), "Item": item.serialize()}}


def send_external(d: Any, user: dict, body: dict) -> tuple[bool, str | None]:
    """A webhook / 企业微信 send of one claimed recipient: (ok, reason)."""
    recipient = channels.Recipient(user["id"], user.get("identities") or {}, body["text"],
                                   body["content"])
    result: list[tuple[bool, str | None]] = []

    def report(user_id: str, ok: bool, reason: str | None = None, detail: Any = None,
               retry: bool = False) -> None:
        result.append((ok, reason))

    adapter = channels.get(d.snapshot["channel"])
    if adapter.IDENTITY and not recipient.identities.get(adapter.IDENTITY):
        return False, "no_identity_for_channel"
    adapter.send(d, [recipient], report)
    return result[0] if result else (False, "outcome_unknown")
