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


def schedule_sources(app_module: ModuleType) -> list[Any]:
    """The app's ``@app.schedule`` registrations (Chalice records them as ScheduledEventConfig)."""
    from chalice.app import ScheduledEventConfig

    return [src for src in app_module.app.event_sources if isinstance(src, ScheduledEventConfig)]


def schedule_handlers(app_module: ModuleType) -> list[Callable]:
    """The handlers EventBridge invokes on a schedule, as the module's own attributes."""
    return [getattr(app_module, src.handler_string.split(".", 1)[1])
            for src in schedule_sources(app_module)]


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


ACCOUNT = "123456789012"


def scheduled_event(rule: str = "yutang-dev-tick", when: datetime | None = None) -> dict:
    """The event EventBridge sends a scheduled rule's target (the documented shape)."""
    region = get_settings().region
    when = when or datetime.now(timezone.utc)
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": ACCOUNT,
            "time": when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region, "resources": [f"arn:aws:events:{region}:{ACCOUNT}:rule/{rule}"],
            "detail": {}}


def tick_all(app_module: ModuleType, when: datetime | None = None) -> int:
    """Invoke every scheduled handler once (as scheduled for ``when``, default now); answers how
    many ran without raising."""
    ok = 0
    app_name = app_module.app.app_name
    for src in schedule_sources(app_module):
        handler = getattr(app_module, src.handler_string.split(".", 1)[1])
        try:
            # Chalice names the rule <app>-<stage>-<handler>; the handler gets it as resources[0]
            handler(scheduled_event(f"{app_name}-dev-{src.name}", when), None)
            ok += 1
        except Exception:  # noqa: BLE001 - the next tick runs again, as EventBridge would
            log.exception("scheduled handler %s failed", src.name)
    return ok


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
