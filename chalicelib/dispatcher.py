"""The events queue's consumer: each event type runs the consumers the domains declare.

Publishing is :mod:`chalicelib.events`; the consumers of each type come from the domains
(``consumers`` in chalicelib/<pkg>/domain.py, in the order of chalicelib/domains.py). Each consumer
imports its module when first called, so a consumer's cold start loads only what the batch needs. A
consumer receives the list of payloads of its type. A consumer's name is the id a retried message
carries (``_only``).
"""
from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from chalicelib import aws
from chalicelib.domain import Consumer
from chalicelib.domains import DOMAINS
from chalicelib.settings import get_settings

log = logging.getLogger("yutang.events")


def _declared() -> tuple[dict[str, list[str]], dict[str, Consumer]]:
    handlers: dict[str, list[str]] = {}
    consumers: dict[str, Consumer] = {}
    for domain in DOMAINS:
        for event_type, declared in domain.consumers.items():
            for consumer in declared:
                consumers[consumer.name] = consumer
                handlers.setdefault(event_type, []).append(consumer.name)
    return handlers, consumers


# Event type -> the names of its consumers, in domain order; name -> the declared consumer.
HANDLERS, CONSUMERS = _declared()


def _is_batch(name: str) -> bool:
    consumer = CONSUMERS.get(name)
    return consumer is not None and consumer.batch


def _takes_history(name: str) -> bool:
    consumer = CONSUMERS.get(name)
    return consumer is not None and consumer.history


def _resolve(name: str) -> Callable[[list[dict]], Any]:
    """A declared consumer by name; else a "module:function" path (a handler a test registers)."""
    consumer = CONSUMERS.get(name)
    if consumer is not None:
        return consumer.run
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
        names = [name for name in names if _takes_history(name)]
    attempt = int(payload.pop("_attempt", 1))
    broken, errors, later = [], [], []
    for name in names:
        if batched is not None and _is_batch(name):
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
