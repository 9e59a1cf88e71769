"""The second half of claimed steps (webhook steps, webhook / 企业微信 sends): call, then record.

A claim was committed with a lease; the call happens once here, and its outcome is written with
the position's next move (conditional on the claim's ``rev``). If this Lambda dies between the
two, the tick meets the claim after its lease and records ``outcome_unknown`` instead of calling
again (:mod:`.runner`)."""
from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import datetime

from chalicelib.journeys import catalog, positions, sending, store
from chalicelib.journeys import steps as rules
from chalicelib.journeys.models import Position

log = logging.getLogger("yutang.journeys")


def is_claim(w: store.Write) -> bool:
    return w.position.phase == rules.CLAIMED and w.position.status == "active"


def refused(w: store.Write, now: datetime) -> store.Write:
    """An entry whose step effect was refused (its user was merged away or deleted) ends."""
    p = positions.copy(w.position)
    stats: Counter = Counter({f"at:{p.step}": -1})
    positions.end(p, "exited", int(now.timestamp()), stats, "user gone")
    return store.Write(p.tenant_id, p.journey_id, p, w.expect_rev, stats=stats)


def call_all(claims: list[store.Write], now: datetime, books: catalog.Catalog) -> list[store.Write]:
    """Make each claimed call and commit its outcome; answers the committed outcome writes."""
    if not claims:
        return []
    writes = []
    for w in claims:
        pos = w.position
        step = books.version(pos.tenant_id, pos.journey_id, int(pos.version or 1))["steps"][pos.step]
        try:
            ok, reason = _call(pos, step, books)
        except Exception as exc:  # noqa: BLE001 - recorded as the step's failure, never retried
            log.exception("journey step %s call failed", step["id"])
            ok, reason = False, type(exc).__name__
        writes.append(_recorded(pos, step, ok, reason, now))
    done, _ = store.commit(writes)
    return done


def _call(pos: Position, step: dict, books: catalog.Catalog) -> tuple[bool, str | None]:
    from chalicelib.audience import users as audience

    user = audience.get_users(pos.tenant_id, [pos.user_id]).get(pos.user_id)
    if user is None:
        return False, "user_not_found"
    if step["type"] == "webhook":
        return _webhook(pos, step, user)
    contents = sending.load_contents(pos.tenant_id, sending.content_ids([step["message"]]))
    body, _, _ = sending.compose(pos.tenant_id, step["message"], user, contents)
    journey = books.journey(pos.tenant_id, pos.journey_id)
    d = sending.delivery(pos.tenant_id, pos.journey_id, pos.entry_id or "", step,
                         journey.name if journey else "")
    return sending.send_external(d, user, body)


def _webhook(pos: Position, step: dict, user: dict) -> tuple[bool, str | None]:
    from chalicelib.auth import service as auth
    from chalicelib.channels import webhook

    tenant = auth.get_tenant(pos.tenant_id)
    event = {"type": "journey.step", "journey_id": pos.journey_id, "entry_id": pos.entry_id,
             "step": step["id"], "user": {"id": user["id"], "identities": user.get("identities")},
             "properties": pos.props or {}}
    data = json.dumps(event, ensure_ascii=False).encode()
    outcome = webhook.post(step["url"], auth.webhook_secret(tenant), data,
                           f"{pos.sk}:{step['id']}", "journey.step")
    return outcome.ok, outcome.reason


def _recorded(pos: Position, step: dict, ok: bool, reason: str | None, now: datetime
              ) -> store.Write:
    p, stats = positions.copy(pos), Counter[str]()
    epoch = int(now.timestamp())
    p.rev = int(pos.rev or 0) + 1
    tally = "sent" if ok else f"failed_{reason}"
    stats[f"{tally}:{step['id']}"] += 1
    positions.note(p, step["id"], epoch, "ok" if ok else f"failed: {reason}")
    positions.move(p, step["next"], stats, counted=False)
    positions.set_due(p, epoch)
    return store.Write(p.tenant_id, p.journey_id, p, int(pos.rev or 0), stats=stats)
