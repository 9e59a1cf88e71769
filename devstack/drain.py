"""Drive the app's event handlers the way AWS does: SQS messages as Lambda SQS events (deleted on
success, left to SQS's retry and redrive on failure) and scheduled events on an interval.

Handlers are found from the Chalice app's own event sources, so a new ``@app.on_sqs_message`` or
``@app.schedule`` is driven here without changes."""
from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
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
    """Invoke every scheduled handler once (as scheduled for ``when``, default now), whatever its
    schedule; answers how many ran without raising. (Chalice names the rule
    ``<app>-<stage>-<handler>``; the handler sees it as ``resources[0]``.)"""
    when = when or datetime.now(timezone.utc)
    return run_sources(app_module, [(src, when) for src in schedule_sources(app_module)])


UNIT_SECONDS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400,
                "days": 86400}


def expression_of(source: Any) -> str:
    expr = source.schedule_expression
    return expr if isinstance(expr, str) else expr.to_string()


def rate_seconds(expression: str) -> int | None:
    """``rate(5 minutes)`` → 300; None for anything else."""
    match = re.fullmatch(r"rate\((\d+) (\w+)\)", expression.strip())
    return int(match[1]) * UNIT_SECONDS[match[2].lower()] if match else None


def cron_for_croniter(expression: str) -> str | None:
    """EventBridge's ``cron(min hour dom month dow year)`` as a 5-field cron (``?`` → ``*``, weekday
    numbers 1-7 from Sunday → 0-6); None when it uses what croniter cannot express (L, W, #)."""
    match = re.fullmatch(r"cron\((.+)\)", expression.strip())
    fields = match[1].split() if match else []
    if len(fields) != 6 or any(c in f for f in fields for c in "LW#"):
        return None
    minute, hour, dom, month, dow, _year = (f.replace("?", "*") for f in fields)
    dow = re.sub(r"\d", lambda d: str((int(d[0]) - 1) % 7), dow)
    return f"{minute} {hour} {dom} {month} {dow}"


class Ticker:
    """When each ``@app.schedule`` handler is due, as EventBridge would fire it: a rate of a minute
    (or less) at every local tick (``YUTANG_TICK_SECONDS`` stands in for the minute), longer rates
    once per period, cron expressions at their UTC fire times (the event's ``time`` is the fire
    time). ``due(now)`` answers the (source, scheduled time) pairs to invoke now."""

    def __init__(self, sources: list[Any], start: datetime) -> None:
        self.next: dict[str, datetime | None] = {}
        self.sources = sources
        for src in sources:
            self.next[src.name] = self._after(src, start)

    def _after(self, src: Any, moment: datetime) -> datetime | None:
        expression = expression_of(src)
        period = rate_seconds(expression)
        if period is not None:
            return None if period <= 60 else moment + timedelta(seconds=period)
        cron = cron_for_croniter(expression)
        if cron is None:
            log.warning("schedule %s of %s cannot be driven locally; it runs at every tick",
                        expression, src.name)
            return None
        from croniter import croniter

        return croniter(cron, moment.astimezone(timezone.utc)).get_next(datetime)

    def due(self, now: datetime) -> list[tuple[Any, datetime]]:
        out = []
        for src in self.sources:
            at = self.next[src.name]
            if at is None:
                out.append((src, now))
            elif at <= now:
                out.append((src, at))
                self.next[src.name] = self._after(src, now)  # missed fires are not replayed
        return out


def run_sources(app_module: ModuleType, due: list[tuple[Any, datetime]]) -> int:
    ok = 0
    for src, when in due:
        handler = getattr(app_module, src.handler_string.split(".", 1)[1])
        try:
            handler(scheduled_event(f"{app_module.app.app_name}-dev-{src.name}", when), None)
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
        ticker = Ticker(schedule_sources(self.app_module), datetime.now(timezone.utc))
        while not self.stop_event.wait(self.tick_seconds):
            run_sources(self.app_module, ticker.due(datetime.now(timezone.utc)))

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
