"""What exports and imports share: job ids, the job views, listings, the data queue and the step
protocol that lets a job outlive one Lambda invocation.

A worker step is one SQS message ``{"op": "export"|"import", "tenant_id", "job_id", "step"}``. The
step reads the job, does a slice of work, then commits its progress and resume state with the
condition ``step = <its step>`` (moving it to step + 1) and, when work is left, sends the next
step's message. A duplicate delivery of a step finds the step moved on and does nothing; two
deliveries running at once compute the same slice from the same resume state, and only one commits.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib import aws, clock
from chalicelib.db import condition_failed
from chalicelib.error_codes import INVALID_CURSOR
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.ids import ALPHABET, is_id, new_id
from chalicelib.portability.models import DataJob
from chalicelib.settings import get_settings

JOB_ID_LEN = 14
RETENTION = timedelta(days=30)
URL_SECONDS = 3600
FINISHED = ("done", "failed")


def new_job_id(now: datetime | None = None) -> str:
    """9 characters of milliseconds (sortable in ALPHABET order) and 5 random ones."""
    ms = int((now or clock.now()).timestamp() * 1000)
    head = ""
    for _ in range(9):
        ms, digit = divmod(ms, 32)
        head = ALPHABET[digit] + head
    return head + new_id(JOB_ID_LEN - 9)


def expires_at(now: datetime) -> datetime:
    return now + RETENTION


def key_for(op: str, job_id: str = "") -> str:
    return DataJob.export_key(job_id) if op == "export" else DataJob.import_key(job_id)


def load(tenant_id: str, op: str, job_id: str) -> DataJob:
    missing = NotFound(f"no such {op}", code=f"{op}-not-found")
    if not isinstance(job_id, str) or not is_id(job_id, JOB_ID_LEN):
        raise missing
    return DataJob.get_or_raise(tenant_id, key_for(op, job_id), missing)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def listing(tenant_id: str, op: str, limit: int, cursor: str | None, view: Any) -> dict:
    """Newest first; the cursor is the last job id of the page."""
    prefix = key_for(op)
    cond: Any
    if cursor:
        if not is_id(cursor, JOB_ID_LEN):
            raise ValidationFailed("invalid cursor", code=INVALID_CURSOR, field="cursor")
        cond = DataJob.sk.between(prefix, key_for(op, cursor))  # the cursor itself is skipped
    else:
        cond = DataJob.sk.startswith(prefix)
    items: list[dict] = []
    more = False
    for job in DataJob.query(tenant_id, cond, scan_index_forward=False, limit=limit + 2):
        if cursor and job.job_id >= cursor:
            continue
        if len(items) == limit:
            more = True
            break
        items.append(view(job))
    return {"items": items, "next_cursor": items[-1]["id"] if more and items else None}


def enqueue(op: str, tenant_id: str, job_id: str, step: int, delay: int = 0) -> None:
    body = json.dumps({"op": op, "tenant_id": tenant_id, "job_id": job_id, "step": step})
    aws.client("sqs").send_message(QueueUrl=aws.queue_url(get_settings().data_queue),
                                   MessageBody=body, DelaySeconds=delay)


def commit(job: DataJob, actions: list) -> bool:
    """Apply a step's changes if this step still owns the job (see the module docstring)."""
    step = int(job.step)
    try:
        job.update(actions=[*actions, DataJob.step.set(step + 1)], condition=DataJob.step == step)
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


class Budget:
    """When a step should hand over: after ``data_step_rows`` rows (when set), after
    ``data_step_seconds``, or when the Lambda has less than a safety margin left."""

    MARGIN_MS = 30_000

    def __init__(self, context: Any = None) -> None:
        cfg = get_settings()
        self.rows_left = cfg.data_step_rows or None
        self.deadline = time.monotonic() + cfg.data_step_seconds
        self.context = context

    def spend(self, rows: int = 1) -> None:
        if self.rows_left is not None:
            self.rows_left -= rows

    def exhausted(self) -> bool:
        if self.rows_left is not None and self.rows_left <= 0:
            return True
        if time.monotonic() >= self.deadline:
            return True
        remaining = getattr(self.context, "get_remaining_time_in_millis", None)
        return bool(remaining and remaining() < self.MARGIN_MS)


MAX_RECEIVES = 5  # the data queue's redrive (devstack/stack.py, infra/)
WORKERS = {"export": "chalicelib.portability.exports",
           "import": "chalicelib.portability.import_worker"}


def handle_messages(event: Any) -> None:
    """The data queue's consumer: one step per message (the op's worker module's ``run_step``).
    A failing step raises, so SQS retries it; its last attempt marks the job failed instead of
    leaving it running for ever."""
    import importlib
    import logging

    context = getattr(event, "context", None)
    for record in event:
        msg = json.loads(record.body)
        if msg.get("op") not in WORKERS:
            raise ValueError(f"not a data job message: {record.body[:100]}")
        module = importlib.import_module(WORKERS[msg["op"]])
        receives = int(record.to_dict().get("attributes", {}).get("ApproximateReceiveCount", 1))
        try:
            module.run_step(msg, context)
        except Exception as exc:
            if receives < MAX_RECEIVES:
                raise
            logging.getLogger("yutang.jobs").exception("giving up on %s", msg)
            give_up(msg, f"{type(exc).__name__}: {exc}")


def give_up(msg: dict, error: str) -> None:
    """Mark a job failed after its step failed too often (the queue gives up on it)."""
    try:
        job = load(msg["tenant_id"], msg["op"], msg["job_id"])
    except NotFound:
        return
    if job.status not in FINISHED:
        job.update(actions=[DataJob.status.set("failed"), DataJob.error.set(error[:500]),
                            DataJob.finished_at.set(clock.now())])
