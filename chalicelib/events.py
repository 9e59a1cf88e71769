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
             "chalicelib.livecodes.warnings:check_after_scans"],
}


def publish(event_type: str, payload: dict) -> None:
    body = json.dumps({"type": event_type, **payload}, ensure_ascii=False, default=str)
    aws.client("sqs").send_message(QueueUrl=aws.queue_url(get_settings().events_queue),
                                   MessageBody=body)


def _resolve(name: str) -> Callable[[list[dict]], Any]:
    module, _, func = name.partition(":")
    return getattr(importlib.import_module(module), func)


def dispatch(records: Iterable[Any]) -> None:
    """Handle one SQS batch. Each message is handled on its own; when some fail, the ones that
    succeeded are deleted from the queue before raising, so a whole-batch retry (Chalice has no
    partial batch response) re-delivers only the failed ones and nothing is counted twice."""
    done, failed = [], []
    for record in records:
        try:
            payload = json.loads(record.body)
            for name in HANDLERS.get(payload.get("type"), []):
                _resolve(name)([payload])
            done.append(record)
        except Exception:  # noqa: BLE001 - logged, retried by SQS, then dead-lettered
            log.exception("event handling failed for message %s", getattr(record, "message_id", "?"))
            failed.append(record)
    if failed:
        _delete(done)
        raise RuntimeError(f"{len(failed)} of {len(done) + len(failed)} events failed; retrying")


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
