"""Asynchronous domain events: published to the events queue, dispatched by type to handlers.

The request path only publishes (one SQS call); counting, warnings and referrals happen in the
consumer. Handlers are named as "module:function" and imported on first use, so the consumer's cold
start loads only what the batch needs. A handler receives the list of payloads of its type.
"""
from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from chalicelib import aws
from chalicelib.settings import get_settings

log = logging.getLogger("yutang.events")

AGGREGATE = "chalicelib.analytics.aggregate:consume"
HANDLERS: dict[str, list[str]] = {
    "scan": [AGGREGATE,
             "chalicelib.livecodes.consumers:check_after_scans",
             "chalicelib.audience.consumers:tag_scanners",
             "chalicelib.fission.consumers:record_scans"],
    "user_event": [AGGREGATE, "chalicelib.campaigns.dispatch:on_user_events"],
    "wecom_callback": ["chalicelib.wecom.consumers:handle_callbacks"],
    "wecom_cleanup": ["chalicelib.wecom.consumers:handle_cleanup"],
    # domain events (docs/events.md); the audience-backed ones also drive after_event campaigns
    "staff_added": [AGGREGATE, "chalicelib.campaigns.dispatch:on_user_events"],
    "customer_lost": [AGGREGATE, "chalicelib.campaigns.dispatch:on_user_events"],
    "group_joined": [AGGREGATE, "chalicelib.campaigns.dispatch:on_user_events"],
    "group_left": [AGGREGATE],
    "invite_counted": [AGGREGATE],
    "reward_granted": [AGGREGATE],
    "message_sent": [AGGREGATE],
    "message_skipped": [AGGREGATE],
    "message_failed": [AGGREGATE],
    "message_clicked": [AGGREGATE, "chalicelib.campaigns.dispatch:on_user_events"],
    "order_paid": [AGGREGATE, "chalicelib.campaigns.dispatch:on_user_events"],
    "agg_retry": [AGGREGATE],
    "template_changed": ["chalicelib.fission.consumers:on_template_changed"],
}
# The domain events a tenant can subscribe a webhook to (docs/events.md); each also goes to the
# webhook fan-out, which reads the tenant's subscriptions (cached) and queues the deliveries.
WEBHOOK_TYPES = ("scan", "staff_added", "customer_lost", "group_joined", "group_left",
                 "invite_counted", "reward_granted", "message_sent", "message_skipped",
                 "message_failed", "message_clicked", "order_paid")
WEBHOOKS = "chalicelib.hooks.consumers:on_events"
for _type in WEBHOOK_TYPES:
    HANDLERS[_type].append(WEBHOOKS)
SCAN_LOG = "chalicelib.portability.scanlog:record_scans"  # the scans export's source
HANDLERS["scan"].append(SCAN_LOG)
# Handlers called once per SQS batch with every payload that lists them (not once per payload).
BATCH_HANDLERS = frozenset({AGGREGATE, "chalicelib.fission.consumers:record_scans", WEBHOOKS,
                            SCAN_LOG})
# Imported history (payloads with ``imported: true``, published by an import for each event it
# recorded) reaches only these handlers: it counts on the days it happened and may go to webhooks
# that asked for it (``include_imported``), but it triggers no campaign, tag or warning.
JOURNEYS = "chalicelib.journeys.consumers:on_events"  # entries, waits for events, goals
for _type in ("user_event", "staff_added", "customer_lost", "group_joined", "message_clicked",
              "order_paid", "tag_added", "stage_changed"):
    HANDLERS.setdefault(_type, []).append(JOURNEYS)
HISTORY_HANDLERS = frozenset({AGGREGATE, WEBHOOKS})
# The queue type of an audience event (audience.record_event publishes under this type).
AUDIENCE_TYPES = {"joined_staff": "staff_added", "left_staff": "customer_lost",
                  "joined_group": "group_joined", "order_paid": "order_paid",
                  "campaign_clicked": "message_clicked"}


def publish(event_type: str, payload: dict) -> None:
    body = json.dumps({"type": event_type, **payload}, ensure_ascii=False, default=str)
    aws.client("sqs").send_message(QueueUrl=aws.queue_url(get_settings().events_queue),
                                   MessageBody=body)


def publish_many(event_type: str, payloads: list[dict]) -> None:
    """Several events of one type in SendMessageBatch calls of ten."""
    publish_typed([{"type": event_type, **p} for p in payloads])


def publish_typed(messages: list[dict]) -> None:
    """Events that carry their own ``type``, in SendMessageBatch calls of ten."""
    if not messages:
        return
    url = aws.queue_url(get_settings().events_queue)
    sqs = aws.client("sqs")
    for i in range(0, len(messages), 10):
        entries = [{"Id": str(n), "MessageBody": json.dumps(m, ensure_ascii=False, default=str)}
                   for n, m in enumerate(messages[i:i + 10])]
        failed = sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed") or []
        if failed:
            raise RuntimeError(f"{len(failed)} events could not be published: {failed[0]}")


def _resolve(name: str) -> Callable[[list[dict]], Any]:
    module, _, func = name.partition(":")
    return getattr(importlib.import_module(module), func)


MAX_HANDLER_ATTEMPTS = 5


def dispatch(records: Iterable[Any]) -> None:
    """Handle one SQS batch, exactly once per (message, handler) as far as SQS allows.

    Each message runs its type's handlers. When some handlers fail, only those are re-published
    (``_only``, with a growing delay) and the message counts as handled — so a scan whose fission
    handler failed is not counted again by analytics on the retry. After MAX_HANDLER_ATTEMPTS the
    remainder goes to the dead-letter queue with its error. A message that cannot be parsed, or
    whose retry cannot be published, fails: the messages that succeeded are deleted first, then the
    batch raises, so SQS's whole-batch retry (Chalice has no partial batch response) re-delivers
    only the failed ones, and its redrive policy dead-letters them in the end."""
    done, failed = [], []
    batched: dict[str, list[tuple[dict, int]]] = {}
    for record in records:
        try:
            payload = json.loads(record.body)
            if not isinstance(payload, dict):
                raise ValueError("an event must be a JSON object")
            _run_handlers(payload, batched)
            done.append(record)
        except Exception:  # noqa: BLE001 - logged, retried by SQS, then dead-lettered
            log.exception("event handling failed for message %s", getattr(record, "message_id", "?"))
            failed.append(record)
    try:
        _run_batched(batched)
    except Exception:  # noqa: BLE001 - the whole batch returns to the queue
        log.exception("re-queueing a failed batch handler's events failed")
        raise
    if failed:
        _delete(done)
        raise RuntimeError(f"{len(failed)} of {len(done) + len(failed)} events failed; retrying")


def _run_batched(batched: dict[str, list[tuple[dict, int]]]) -> None:
    """Batch handlers: one call with every payload; if it fails, each payload is retried alone."""
    for name, items in batched.items():
        try:
            _resolve(name)([payload for payload, _ in items])
        except Exception as exc:  # noqa: BLE001 - retried per payload below
            log.exception("batch event handler %s failed for %d events", name, len(items))
            for payload, attempt in items:
                _retry(payload, attempt, [name], [f"{name}: {type(exc).__name__}: {exc}"[:500]])


def _run_handlers(payload: dict, batched: dict[str, list[tuple[dict, int]]] | None = None) -> None:
    names = payload.pop("_only", None) or HANDLERS.get(payload.get("type", ""), [])
    if payload.get("imported"):
        names = [name for name in names if name in HISTORY_HANDLERS]
    attempt = int(payload.pop("_attempt", 1))
    broken, errors, later = [], [], []
    for name in names:
        if batched is not None and name in BATCH_HANDLERS:
            later.append(name)
            continue
        try:
            _resolve(name)([payload])
        except Exception as exc:  # noqa: BLE001 - the other handlers still run; retried below
            log.exception("event handler %s failed (attempt %d)", name, attempt)
            broken.append(name)
            errors.append(f"{name}: {type(exc).__name__}: {exc}"[:500])
    if broken:
        _retry(payload, attempt, broken, errors)
    if batched is not None:  # `later` is only filled when batching
        for name in later:  # only once the message is sure to be deleted (no whole-message redelivery)
            batched.setdefault(name, []).append((payload, attempt))


def _retry(payload: dict, attempt: int, broken: list[str], errors: list[str]) -> None:
    from chalicelib import observability

    observability.metric("event_handler_failures", len(broken), event=str(payload.get("type")))
    retry = {**payload, "_only": broken, "_attempt": attempt + 1}
    cfg = get_settings()
    sqs = aws.client("sqs")
    if attempt >= MAX_HANDLER_ATTEMPTS:
        retry["_errors"] = errors
        sqs.send_message(QueueUrl=aws.queue_url(f"{cfg.events_queue}-dlq"),
                         MessageBody=json.dumps(retry, ensure_ascii=False, default=str))
        return
    delay = min(900, int(cfg.event_retry_delay_seconds * 2 ** (attempt - 1)))
    sqs.send_message(QueueUrl=aws.queue_url(cfg.events_queue), DelaySeconds=delay,
                     MessageBody=json.dumps(retry, ensure_ascii=False, default=str))


def _delete(records: list[Any]) -> None:
    if not records:
        return
    by_queue: dict[str, list[Any]] = {}
    for record in records:
        by_queue.setdefault(_queue_url_from_arn(record.to_dict()["eventSourceARN"]), []).append(record)
    sqs = aws.client("sqs")
    for url, batch in by_queue.items():
        for i in range(0, len(batch), 10):
            sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(n), "ReceiptHandle": r.receipt_handle} for n, r in enumerate(batch[i:i + 10])])


def _queue_url_from_arn(arn: str) -> str:
    name = arn.rsplit(":", 1)[-1]
    return aws.queue_url(name)
