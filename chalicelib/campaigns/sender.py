"""The sender: delivers one recipient batch, at most once per recipient, with caps, quiet hours and
unsubscribes honoured.

A batch is a fixed list of user ids (from a dispatch page, so a replay rebuilds the same batch). Its
item holds one row per recipient — the delivery records: ``s`` sent, ``f`` failed, ``k`` skipped
(with a reason), ``d`` deferred, ``c`` claimed (being sent, under a lease), ``r`` claimed and known
unsent (to retry). Every write of the item is conditional on its ``rev`` and carries the matching
stats increments in the same transaction (one small item each), so rows and stats never disagree.

A batch goes: skip who is unsubscribed, capped or unreachable on the channel; *claim* the rest
(rows ``c``); write their counters (contacts) — and for the outbox channel the outbox items, whose
keys make a rewrite harmless — with BatchWriteItem; then send (webhook, wecom) and record the
outcomes (``s``/``f``), or for the outbox simply mark them sent.

Whole-batch redelivery (Chalice has no partial-batch response) and duplicate messages only ever
meet rows already written: final rows are left alone; ``r`` rows are sent again (their caps were
counted); ``c`` rows under a live lease belong to another sender (the message is retried later);
``c`` rows whose lease ran out belong to a sender that died — the outbox redoes them (idempotent
writes, counters guarded by the batch marker), the others record ``outcome_unknown`` rather than
risk a second message.
"""
from __future__ import annotations

import logging
import time
import zlib
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist

from chalicelib import aws
from chalicelib.campaigns import channels, clock, contacts, links, rules, schedule
from chalicelib.campaigns.models import STAT_SHARDS, CampaignBatch
from chalicelib.secret_store import app_secret
from chalicelib.settings import get_settings

log = logging.getLogger("yutang.campaigns")

FINAL = {"s", "f", "k"}
MAX_RECEIVES = 4  # the 5th receive would dead-letter: finish instead (retryable rows fail)
BATCH_SIZES = {"outbox": 1000, "webhook": 128, "wecom": 1000}
ATTEMPTS = 4  # a recipient a channel asks to retry is tried at most this often, then failed
MAX_DELAY = 900  # SQS DelaySeconds ceiling


def retry_delay(attempt: int) -> int:
    """Seconds before attempt ``attempt + 1``: base × 4^(attempt-1), i.e. 30 s, 2 min, 8 min by
    default — so a receiver gets a message at most twice within a minute, however it behaves."""
    base = get_settings().webhook_retry_base_seconds
    return int(min(base * 4 ** (attempt - 1), MAX_DELAY))


class BatchBusy(Exception):
    """Another sender holds a live claim on part of this batch; retry the message later."""


class StateChanged(Exception):
    """The batch item changed under us (a concurrent duplicate): reload and go again."""


def table(model: Any) -> str:
    model._get_connection()
    return model.Meta.table_name


def batch_size(channel: str) -> int:
    return BATCH_SIZES[channel]


# ---- batch state --------------------------------------------------------------------------------

class State:
    def __init__(self, pk: str, sk: str, users: list[str], rows: dict | None = None,
                 rev: int | None = None) -> None:
        self.pk, self.sk, self.users = pk, sk, users
        self.rows: dict[str, dict] = rows or {}
        self.rev = rev  # None: not stored yet

    @classmethod
    def load(cls, pk: str, sk: str, users: list[str]) -> "State":
        try:
            item = CampaignBatch.get(pk, sk, consistent_read=True)
        except DoesNotExist:
            return cls(pk, sk, users)
        return cls(pk, sk, list(item.users or users), dict(item.rows or {}), int(item.rev or 0))

    def status(self, user: str) -> str | None:
        return self.rows.get(user, {}).get("s")

    def put(self, rows: dict[str, dict]) -> dict:
        item = CampaignBatch(pk=self.pk, sk=self.sk, users=self.users, rows={**self.rows, **rows},
                             rev=(self.rev or 0) + 1)
        put: dict[str, Any] = {"TableName": table(CampaignBatch), "Item": item.serialize()}
        if self.rev is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "rev = :rev"
            put["ExpressionAttributeValues"] = {":rev": {"N": str(self.rev)}}
        return {"Put": put}

    def applied(self, rows: dict[str, dict]) -> None:
        self.rows.update(rows)
        self.rev = (self.rev or 0) + 1


def stat_update(pk: str, run_id: str, batch: str, counts: dict[str, int],
                at: datetime | None = None) -> dict | None:
    """The stats shard increments; with ``at``, also the shard's ``last_at`` (the run's activity,
    which the lease check reads: see :mod:`chalicelib.campaigns.redrive`)."""
    counts = {k: n for k, n in counts.items() if n}
    if not counts:
        return None
    shard = zlib.crc32(batch.encode()) % STAT_SHARDS
    names = {f"#c{i}": name for i, name in enumerate(counts)}
    values = {f":c{i}": {"N": str(n)} for i, n in enumerate(counts.values())}
    expression = "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counts)))
    if at is not None:
        names["#at"], values[":at"] = "last_at", {"N": str(int(at.timestamp()))}
        expression += " SET #at = :at"
    return {"Update": {"TableName": table(CampaignBatch),
                       "Key": {"pk": {"S": pk}, "sk": {"S": CampaignBatch.stat_key(run_id, shard)}},
                       "UpdateExpression": expression,
                       "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}}


def row(status: str, now: datetime, reason: str | None = None, **extra: Any) -> dict:
    data = {"s": status, "at": now.isoformat(timespec="seconds")}
    if reason:
        data["r"] = reason
    data.update({k: v for k, v in extra.items() if v is not None})
    return data


def counts_of(rows: dict[str, dict], previous: dict[str, dict]) -> dict[str, int]:
    """Stats increments for rows moving into a final (or deferred) state."""
    counts: dict[str, int] = {}
    for user, r in rows.items():
        if r["s"] == previous.get(user, {}).get("s"):
            continue
        key = {"s": "sent", "f": "failed", "d": "deferred"}.get(r["s"])
        if r["s"] == "k":
            key = f"skip_{r['r']}"
        if key:
            counts[key] = counts.get(key, 0) + 1
    return counts


def transact(items: list[dict]) -> bool:
    """Run a small transaction; False when a condition failed (conflicts are retried)."""
    client = aws.client("dynamodb")
    for attempt in range(8):
        try:
            client.transact_write_items(TransactItems=items)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or []
            if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                return False
            time.sleep(min(0.05 * 2 ** attempt, 1.0))  # TransactionConflict: another writer
    raise BatchBusy("transaction conflicts persisted")


def commit(d: channels.Delivery, state: State, rows: dict[str, dict]) -> None:
    """Write rows and their stats in one transaction; StateChanged when the batch moved on."""
    if not rows:
        return
    items = [state.put(rows)]
    stats = stat_update(state.pk, d.run_id, d.batch, counts_of(rows, state.rows), clock.now())
    if stats:
        items.append(stats)
    if not transact(items):
        raise StateChanged()
    _publish_outcomes(d, rows, state.rows)
    state.applied(rows)


_OUTCOME_EVENTS = {"s": "message_sent", "k": "message_skipped", "f": "message_failed"}


def _publish_outcomes(d: channels.Delivery, rows: dict[str, dict], previous: dict[str, dict]) -> None:
    """One event per outcome per commit, listing the recipients that reached it (docs/events.md);
    one SendMessageBatch. Published after the rows are written: a crash in between loses the
    event (the rows are final, so a retry does not publish again) — counts may lag, never double."""
    from chalicelib import events

    grouped: dict[str, dict[str, str | None]] = {}
    for user, r in rows.items():
        kind = _OUTCOME_EVENTS.get(r["s"])
        if kind and r["s"] != previous.get(user, {}).get("s"):
            grouped.setdefault(kind, {})[user] = r.get("r")
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


# ---- rendering ----------------------------------------------------------------------------------

def render(d: channels.Delivery, user_id: str) -> tuple[str | None, dict | None]:
    snap = d.snapshot
    cfg = get_settings()

    def tracked(index: int) -> str:
        click = links.Click(d.tenant_id, d.campaign_id, d.run_id, d.batch, user_id, index)
        return f"{cfg.public_url}/c/{links.token(app_secret(), click)}"

    text = snap.get("text")
    if text:
        text = links.rewrite(text, snap.get("links") or [], tracked)
    content = snap.get("content")
    if content:
        content = dict(content)
        if content.get("url") in (snap.get("links") or []):
            content["url"] = tracked(snap["links"].index(content["url"]))
    return text, content


def recipient(d: channels.Delivery, user: str, profiles: dict | None) -> channels.Recipient:
    text, content = render(d, links.NO_USER if d.snapshot["channel"] == "wecom" else user)
    identities = ((profiles or {}).get(user) or {}).get("identities") or {}
    return channels.Recipient(user, identities, text, content)


# ---- the batch ----------------------------------------------------------------------------------

def process(msg: dict, receive_count: int = 1) -> None:
    if msg.get("lt"):  # the tick's last re-drive of a stalled run: whatever fails now is final
        receive_count = max(receive_count, MAX_RECEIVES)
    for _ in range(5):
        try:
            return _process(msg, receive_count)
        except StateChanged:
            msg = {**msg, "x": 1}  # reload the batch next time
    raise BatchBusy("the batch keeps changing under this sender")


def _process(msg: dict, receive_count: int) -> None:
    from chalicelib.campaigns import service

    d = channels.Delivery(msg["t"], msg["c"], msg["r"], msg["b"], msg["m"])
    now = clock.now()
    pk = CampaignBatch.partition(d.tenant_id, d.campaign_id)
    sk = CampaignBatch.batch_key(d.run_id, d.batch)
    # A first delivery writes with "not exists"; a redelivery reads what earlier attempts did.
    fresh = receive_count == 1 and not msg.get("x")
    state = State(pk, sk, msg["u"]) if fresh else State.load(pk, sk, msg["u"])
    status = service.current_status(d.tenant_id, d.campaign_id)
    if status != "active":
        return _skip_all(d, state, now, f"campaign_{status}")
    until = schedule.quiet_until(now, schedule.quiet_from_stored(d.snapshot.get("quiet")),
                                 d.snapshot["tz"])
    if until is not None:
        return _defer(d, state, msg, now, until)
    adapter = channels.get(d.snapshot["channel"])
    redo = _settle_stale(d, state, adapter, now)
    pending = [u for u in state.users if state.status(u) in (None, "d")]
    retry = [u for u in state.users if state.status(u) == "r"
             and int(state.rows[u].get("next", 0)) <= now.timestamp()]  # later: a delayed message
    profiles = _profiles(d, adapter, pending + retry + redo)
    skips = _prechecks(d, adapter, pending, profiles, now)
    deliver, known = _apply_caps(d, [u for u in pending if u not in skips], skips, now)
    claimed = deliver + retry + redo
    if adapter.IDEMPOTENT:  # no claim needed: rewriting is harmless, the marker stops recounting
        _write_contacts(d, claimed, known, adapter, profiles, now)
        return _record(d, state, {**skips, **{u: row("s", now) for u in claimed}})
    commit(d, state, {**skips, **{u: row("c", now, lease=_lease(now), n=state.rows.get(u, {}).get("n"))
                                  for u in claimed}})
    if not claimed:
        return None
    _write_contacts(d, deliver, known, adapter, profiles, now)
    return _send(d, state, adapter, claimed, profiles, now, receive_count, msg)


def _lease(now: datetime) -> int:
    return int(now.timestamp()) + get_settings().send_lease_seconds


def _skip_all(d: channels.Delivery, state: State, now: datetime, reason: str) -> None:
    state = State.load(state.pk, state.sk, state.users) if state.rev is None else state
    commit(d, state, {u: row("k", now, reason) for u in state.users
                      if state.status(u) not in FINAL | {"c"}})


def _defer(d: channels.Delivery, state: State, msg: dict, now: datetime, until: datetime) -> None:
    """Quiet hours: the batch waits in a due item until they end (deferred, not dropped)."""
    from chalicelib.campaigns import due

    due.item(until, d.tenant_id, d.campaign_id, "batch", f"b#{d.run_id}#{d.batch}",
             body={k: v for k, v in msg.items() if k != "x"}).save()
    state = State.load(state.pk, state.sk, state.users) if state.rev is None else state
    commit(d, state, {u: row("d", now, "quiet_hours_deferred", until=until.isoformat())
                      for u in state.users if state.status(u) is None})


def _settle_stale(d: channels.Delivery, state: State, adapter: Any, now: datetime) -> list[str]:
    """Claimed rows left by an earlier attempt: busy, redone (idempotent channel) or unknown."""
    claimed = [u for u in state.users if state.status(u) == "c"]
    if not claimed:
        return []
    if any(int(state.rows[u].get("lease", 0)) > now.timestamp() for u in claimed):
        raise BatchBusy(f"batch {state.sk} is being sent by another sender")
    if adapter.IDEMPOTENT:
        return claimed
    log.warning("batch %s: %d claimed recipients with unknown outcome; not resending",
                state.sk, len(claimed))
    commit(d, state, {u: row("f", now, "outcome_unknown") for u in claimed})
    return []


def _profiles(d: channels.Delivery, adapter: Any, users: list[str]) -> dict[str, dict] | None:
    if not users or not (adapter.NEEDS_PROFILE or d.snapshot.get("ev")):
        return None
    from chalicelib.audience import users as audience

    return audience.get_users(d.tenant_id, users)


def _prechecks(d: channels.Delivery, adapter: Any, pending: list[str],
               profiles: dict[str, dict] | None, now: datetime) -> dict[str, dict]:
    skips: dict[str, dict] = {}
    gone = contacts.unsubscribed(d.tenant_id, pending) if pending else set()
    for u in pending:
        profile = None if profiles is None else profiles.get(u)
        if u in gone:
            skips[u] = row("k", now, "unsubscribed")
        elif profiles is not None and profile is None:
            skips[u] = row("k", now, "user_not_found")
        elif profile and d.snapshot.get("ev") and not rules.matches(
                d.snapshot.get("audience") or {}, profile["tags"], profile["stage"]):
            skips[u] = row("k", now, "not_in_audience")
        elif profile and adapter.IDENTITY and not profile["identities"].get(adapter.IDENTITY):
            skips[u] = row("k", now, "no_identity_for_channel")
    return skips


def _counter(d: channels.Delivery, now: datetime) -> contacts.Counter:
    return contacts.Counter(d.snapshot["channel"], rules.Caps(**d.snapshot["caps"]), now,
                            d.snapshot["ctz"])


def _apply_caps(d: channels.Delivery, users: list[str], skips: dict[str, dict],
                now: datetime) -> tuple[list[str], dict[str, dict]]:
    """Who may be sent to under the caps (the rest join ``skips``), and their contact items."""
    if not users:
        return [], {}
    counter = _counter(d, now)
    items = contacts.read(d.tenant_id, users)
    marker = f"{d.run_id}:{d.batch}"
    deliver = []
    for u in users:
        refusal = counter.refusal(items[u], marker)
        if refusal:
            skips[u] = row("k", now, refusal)
        else:
            deliver.append(u)
    return deliver, items


def _write_contacts(d: channels.Delivery, users: list[str], known: dict[str, dict], adapter: Any,
                    profiles: dict | None, now: datetime) -> None:
    counter = _counter(d, now)
    missing = [u for u in users if u not in known]
    if missing:
        known.update(contacts.read(d.tenant_id, missing))
    marker = f"{d.run_id}:{d.batch}"
    writes = []
    for u in users:
        if adapter.IDEMPOTENT:
            writes.extend(adapter.requests(d, recipient(d, u, profiles), now))
        writes.append(contacts.put_request(counter.counted(known[u], marker)))
    contacts.batch_write(writes)


def _send(d: channels.Delivery, state: State, adapter: Any, users: list[str],
          profiles: dict | None, now: datetime, receive_count: int, msg: dict) -> None:
    results: dict[str, dict] = {}
    attempts = {u: int(state.rows.get(u, {}).get("n") or 0) + 1 for u in users}

    def report(user: str, ok: bool, reason: str | None, detail: str | None,
               retry: bool = False) -> None:
        at = clock.now()
        if not ok and retry and attempts[user] < ATTEMPTS:
            results[user] = row("r", at, reason, d=detail, n=attempts[user],
                                next=int(at.timestamp()) + retry_delay(attempts[user]))
        else:
            results[user] = row("s" if ok else "f", at, reason, d=detail, n=attempts[user])

    error: Exception | None = None
    try:
        adapter.send(d, [recipient(d, u, profiles) for u in users], report)
    except Exception as exc:  # noqa: BLE001 - recorded below, then re-raised for a retry
        error = exc
        log.warning("channel %s failed after %d of %d recipients: %s", d.snapshot["channel"],
                    len(results), len(users), exc)
    last_try = receive_count >= MAX_RECEIVES
    for u in users:
        if u not in results:
            results[u] = (row("f", now, "retries_exhausted", d=str(error)[:200]) if last_try
                          else row("r", now, "retrying", d=str(error)[:200]))
    _record(d, state, results)
    if error is not None and not last_try:
        raise error
    later = [r["next"] for r in results.values() if r["s"] == "r" and "next" in r]
    if later:  # a real backoff: the batch comes back when its first retry is due
        from chalicelib.campaigns import dispatch

        delay = max(0, min(min(later) - int(clock.now().timestamp()), MAX_DELAY))
        dispatch.send_messages([{**{k: v for k, v in msg.items() if k != "x"}, "x": 1}], [delay])


def _record(d: channels.Delivery, state: State, results: dict[str, dict]) -> None:
    """Outcomes of what this sender claimed; survives a concurrent write to other rows."""
    for _ in range(5):
        try:
            return commit(d, state, results)
        except StateChanged:
            state = State.load(state.pk, state.sk, state.users)
            results = {u: r for u, r in results.items() if state.status(u) not in FINAL}
    raise BatchBusy(f"could not record the outcome of batch {state.sk}")
