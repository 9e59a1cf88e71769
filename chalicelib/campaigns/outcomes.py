"""Recording a batch's delivery rows: each write of the batch item carries its stats increments in
one transaction (so rows and stats never disagree), then one event per outcome is published."""
from __future__ import annotations

import logging

from chalicelib import channels, clock
from chalicelib.campaigns import batches, bulk
from chalicelib.campaigns.batches import State
from chalicelib.campaigns.wire import Row, Status

log = logging.getLogger("yutang.campaigns")

_OUTCOME_EVENTS = {Status.SENT: "message_sent", Status.SKIPPED: "message_skipped",
                   Status.FAILED: "message_failed"}


class BatchBusy(Exception):
    """Another sender holds a live claim on part of this batch; retry the message later."""


class StateChanged(Exception):
    """The batch item changed under us (a concurrent duplicate): reload and go again."""


def commit(d: channels.Delivery, state: State, rows: dict[str, Row]) -> None:
    """Write rows and their stats in one transaction; StateChanged when the batch moved on."""
    if not rows:
        return
    items = [state.put(rows)]
    stats = batches.stat_update(state.pk, d.run_id, d.batch, batches.counts_of(rows, state.rows),
                                clock.now())
    if stats:
        items.append(stats)
    try:
        written = bulk.transact(items)
    except bulk.Busy as exc:
        raise BatchBusy(str(exc)) from None
    if not written:
        raise StateChanged()
    publish(d, rows, state.rows)
    state.applied(rows)


def record(d: channels.Delivery, state: State, results: dict[str, Row]) -> None:
    """Outcomes of what this sender claimed; survives a concurrent write to other rows."""
    for _ in range(5):
        try:
            return commit(d, state, results)
        except StateChanged:
            state = State.load(state.pk, state.sk, state.users)
            results = {u: r for u, r in results.items() if not _final(state, u)}
    raise BatchBusy(f"could not record the outcome of batch {state.sk}")


def _final(state: State, user: str) -> bool:
    current = state.rows.get(user)
    return current is not None and current.final


def publish(d: channels.Delivery, rows: dict[str, Row], previous: dict[str, Row]) -> None:
    """One event per outcome per commit, listing the recipients that reached it (docs/events.md);
    one SendMessageBatch. Published after the rows are written: a crash in between loses the
    event (the rows are final, so a retry does not publish again) — counts may lag, never double."""
    from chalicelib import events

    grouped: dict[str, dict[str, str | None]] = {}
    for user, r in rows.items():
        kind = _OUTCOME_EVENTS.get(r.status)
        before = previous.get(user)
        if kind and (before is None or r.status != before.status):
            grouped.setdefault(kind, {})[user] = r.reason
    if not grouped:
        return
    base = {"tenant_id": d.tenant_id, "at": clock.now().isoformat(), "campaign_id": d.campaign_id,
            "run_id": d.run_id, "batch": d.batch, "channel": d.snapshot.get("channel"),
            "campaign_name": d.snapshot.get("name")}
    messages = []
    for kind, users in grouped.items():
        payload = {**base, "type": kind, "user_ids": sorted(users), "count": len(users)}
        if kind != "message_sent":
            payload["reasons"] = {u: r for u, r in users.items() if r}
        messages.append(payload)
    try:
        events.publish_typed(messages)
    except Exception:  # noqa: BLE001 - the delivery rows are final; the counts are best effort
        log.exception("publishing %d message outcome events failed", len(messages))
