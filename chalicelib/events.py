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

HANDLERS: dict[str, list[str]] = {
    "scan": ["chalicelib.analytics.service:record_scans",
             "chalicelib.livecodes.warnings:check_after_scans",
             "chalicelib.audience.handlers:tag_scanners",
             "chalicelib.fission.invites:record_scans"],
    "user_event": ["chalicelib.campaigns.dispatch:on_user_events"],
    "wecom_callback": ["chalicelib.wecom.callbacks:handle_callbacks"],
    "wecom_cleanup": ["chalicelib.wecom.ways:handle_cleanup"],
}


def publish(event_type: str, payload: dict) -> None:
    body = json.dumps({"type": event_type, **payload}, ensure_ascii=False, default=str)
    aws.client("sqs").send_message(QueueUrl=aws.queue_url(get_settings().events_queue),
                                   MessageBody=body)


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
    for record in records:
        try:
            payload = json.loads(record.body)
            if not isinstance(payload, dict):
                raise ValueError("an event must be a JSON object")
            _run_handlers(payload)
            done.append(record)
        except Exception:  # noqa: BLE001 - logged, retried by SQS, then dead-lettered
            log.exception("event handling failed for message %s", getattr(record, "message_id", "?"))
            failed.append(record)
    if failed:
        _delete(done)
        raise RuntimeError(f"{len(failed)} of {len(done) + len(failed)} events failed; retrying")


def _run_handlers(payload: dict) -> None:
    names = payload.pop("_only", None) or HANDLERS.get(payload.get("type"), [])
    attempt = int(payload.pop("_attempt", 1))
    broken, errors = [], []
    for name in names:
        try:
            _resolve(name)([payload])
        except Exception as exc:  # noqa: BLE001 - the other handlers still run; retried below
            log.exception("event handler %s failed (attempt %d)", name, attempt)
            broken.append(name)
            errors.append(f"{name}: {type(exc).__name__}: {exc}"[:500])
    if not broken:
        return
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
