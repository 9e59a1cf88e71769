"""Drive the app's event handlers the way AWS does: SQS messages as Lambda SQS events (deleted on
success, left to SQS's retry and redrive on failure) and scheduled events on an interval.

Handlers are found from the Chalice app's own event sources, so a new ``@app.on_sqs_message`` or
``@app.schedule`` is driven here without changes."""
from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from types import ModuleType
from typing import Any

from chalicelib import aws
from chalicelib.settings import get_settings

log = logging.getLogger("yutang.local")


def sqs_handlers(app_module: ModuleType) -> dict[str, Callable]:
    from chalice.app import SQSEventConfig

    return {src.queue: getattr(app_module, src.handler_string.split(".", 1)[1])
            for src in app_module.app.event_sources if isinstance(src, SQSEventConfig)}


def schedule_handlers(app_module: ModuleType) -> list[Callable]:
    from chalice.app import CloudWatchEventConfig

    return [getattr(app_module, src.handler_string.split(".", 1)[1])
            for src in app_module.app.event_sources if isinstance(src, CloudWatchEventConfig)]


def lambda_sqs_event(queue: str, messages: list[dict]) -> dict:
    cfg = get_settings()
    arn = f"arn:aws:sqs:{cfg.region}:123456789012:{queue}"
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": {"ApproximateReceiveCount": m.get("Attributes", {}).get(
            "ApproximateReceiveCount", "1")},
        "messageAttributes": {}, "md5OfBody": hashlib.md5(m["Body"].encode()).hexdigest(),
        "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": cfg.region} for m in messages]}


def drain_once(queue: str, handler: Callable, wait_seconds: int = 0, max_batches: int = 100,
               visibility_timeout: int | None = None) -> int:
    """Deliver what is in the queue to the handler, batch by batch; returns messages handled OK."""
    sqs = aws.client("sqs")
    url = aws.queue_url(queue)
    handled = 0
    extra = {} if visibility_timeout is None else {"VisibilityTimeout": visibility_timeout}
    for _ in range(max_batches):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds,
                                  AttributeNames=["ApproximateReceiveCount"], **extra).get("Messages", [])
        if not got:
            break
        try:
            handler(lambda_sqs_event(queue, got), None)
        except Exception:  # noqa: BLE001 - as on AWS: the batch returns to the queue
            log.exception("handler for %s failed; messages return to the queue", queue)
            continue
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
        handled += len(got)
        wait_seconds = 0
    return handled


def drain_all(app_module: ModuleType) -> int:
    return sum(drain_once(q, h) for q, h in sqs_handlers(app_module).items())


def scheduled_event() -> dict:
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "123456789012",
            "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": get_settings().region, "resources": [], "detail": {}}


def tick_all(app_module: ModuleType) -> None:
    for handler in schedule_handlers(app_module):
        try:
            handler(scheduled_event(), None)
        except Exception:  # noqa: BLE001 - the next tick runs again, as EventBridge would
            log.exception("scheduled handler failed")


class Background:
    """Threads for the tick loop and one long-polling drain per queue."""

    def __init__(self, app_module: ModuleType, tick_seconds: float) -> None:
        self.app_module, self.tick_seconds = app_module, tick_seconds
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        self._spawn(self._tick_loop, "tick")
        for queue, handler in sqs_handlers(self.app_module).items():
            self._spawn(lambda q=queue, h=handler: self._drain_loop(q, h), f"drain-{queue}")

    def _spawn(self, target: Callable, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _tick_loop(self) -> None:
        while not self.stop_event.wait(self.tick_seconds):
            tick_all(self.app_module)

    def _drain_loop(self, queue: str, handler: Any) -> None:
        while not self.stop_event.is_set():
            try:
                drain_once(queue, handler, wait_seconds=1)
            except Exception:  # noqa: BLE001 - keep draining after a transient local error
                log.exception("drain of %s failed", queue)
                time.sleep(1)

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=3)
