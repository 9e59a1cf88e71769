"""The import worker: one step of an import per data-queue message (the step protocol is in
:mod:`chalicelib.portability.jobs`).

A step reads the file from the job's byte offset (:mod:`~chalicelib.portability.import_file`),
checks each row (:mod:`~chalicelib.portability.import_rows`) and applies good rows a chunk at a
time (100 users, 25 events), idempotently: a user's id derives from its identities and an event's
key from its user, time, type and properties (:mod:`chalicelib.audience.bulk`), and rows that
match what is stored write nothing. It saves its offset, line, counters and the first 100 row
errors every few seconds and hands over to the next step before its time runs out.

Events an import records are published on the events queue as history (``imported: true``, the
import's id): the insight counters count them on the days they happened and webhooks that asked
for history (``include_imported``) deliver them; no campaign, tag or warning reacts to them
(only consumers declared with ``history=True`` take them). An event recorded before (a re-run)
publishes nothing.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib import aws, clock, events
from chalicelib.audience import bulk
from chalicelib.errors import DomainError
from chalicelib.portability import import_rows, jobs
from chalicelib.portability.import_file import Lines, records
from chalicelib.portability.import_rows import RowError
from chalicelib.portability.models import DataJob
from chalicelib.settings import get_settings

MAX_ERRORS = 100
CHUNK = {"users": 100, "events": 25}
PROGRESS_SECONDS = 2.0


class Progress:
    """A step's counters, first errors and resume state, as committed on the job item."""

    def __init__(self, job: DataJob) -> None:
        self.state = dict(job.state or {})
        self.rows, self.ok, self.failed = int(job.rows or 0), int(job.rows_ok or 0), \
            int(job.rows_failed or 0)
        self.errors = list(job.errors or [])

    def done(self, line: int, err: RowError | None) -> None:
        if err is None:
            self.rows += 1
            self.ok += 1
        else:
            self.fail(line, err)

    def fail(self, line: int, err: RowError) -> None:
        self.rows += 1
        self.failed += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"line": line, "field": err.field, "code": err.code,
                                "message": err.message[:300]})

    def actions(self) -> list:
        return [DataJob.rows.set(self.rows), DataJob.rows_ok.set(self.ok),
                DataJob.rows_failed.set(self.failed), DataJob.errors.set(self.errors),
                DataJob.state.set(self.state)]


# ---- applying a chunk ---------------------------------------------------------------------------

def apply_users(job: DataJob, rows: list[tuple[int, bulk.NewUser]]) -> list[RowError | None]:
    """New users in conditional transactions of many; rows whose identities are known (or repeat
    within the chunk, or were registered by a live request meanwhile) one by one through the
    audience service. Returns one error (or None) per row."""
    tenant_id = job.tenant_id
    owned = bulk.owners(tenant_id, (p for _, u in rows for p in u.identities.items()))
    fresh: list[int] = []
    known: list[int] = []
    seen: set[tuple[str, str]] = set()
    for index, (_, user) in enumerate(rows):
        pairs = set(user.identities.items())
        (known if pairs & seen or any(p in owned for p in pairs) else fresh).append(index)
        seen |= pairs
    raced = bulk.create_users(tenant_id, [rows[i][1] for i in fresh])
    known = sorted(known + [fresh[i] for i in raced])
    same = bulk.unchanged(tenant_id, [rows[i][1] for i in known], owned)
    errors: list[RowError | None] = [None] * len(rows)
    for index in (i for i, skip in zip(known, same, strict=True) if not skip):
        try:
            bulk.apply_user(tenant_id, rows[index][1])
        except DomainError as exc:
            errors[index] = RowError.of(exc)
    return errors


def apply_events(job: DataJob, rows: list[tuple[int, dict]]) -> list[RowError | None]:
    """Each event recorded once; those recorded now are published as history, one
    SendMessageBatch per ten (a crash between the two loses their counters, as for live events)."""
    errors: list[RowError | None] = []
    messages = []
    for _, e in rows:
        try:
            user_id = e["user_id"] or _user_for(job.tenant_id, e["identities"], e["at"])
            recorded = bulk.record_past_event(job.tenant_id, user_id, e["type"], e["at"],
                                              e["properties"])
        except DomainError as exc:
            errors.append(RowError.of(exc, "user_id"))
            continue
        errors.append(None)
        if recorded:
            messages.append(bulk.event_message(job.tenant_id, recorded, e["type"], e["at"],
                                               e["properties"], job.job_id))
    events.publish_typed(messages)
    return errors


def _user_for(tenant_id: str, identities: dict[str, str], at: Any) -> str:
    """The user holding the identity; a new one first seen at the event's time when none does
    (so its history starts there, not at the import)."""
    from chalicelib.audience import users
    from chalicelib.audience.identities import identify

    (kind, value), = identities.items()
    found = users.find_user_id(tenant_id, kind, value)
    if found:
        return found
    if bulk.create_users(tenant_id, [bulk.NewUser(identities, [], first_seen_at=at)]):
        return identify(tenant_id, identities)[0]["id"]  # registered meanwhile
    return bulk.user_id_for(tenant_id, identities)


Parse = Callable[[dict, datetime], Any]  # a row -> what its kind's apply takes (or RowError)
Apply = Callable[[DataJob, list[tuple[int, Any]]], list[RowError | None]]
KINDS: dict[str, tuple[Parse, Apply]] = {"users": (import_rows.parse_user, apply_users),
                                         "events": (import_rows.parse_event, apply_events)}


# ---- one step -----------------------------------------------------------------------------------

class Step:
    """One step of an import: reads from the resume point, applies chunks, commits progress."""

    def __init__(self, job: DataJob, context: Any) -> None:
        self.job, self.progress = job, Progress(job)
        self.state = self.progress.state
        self.budget = jobs.Budget(context)
        self.parse, self.apply = KINDS[job.kind]
        self.chunk: list[tuple[int, Any]] = []
        self.now = clock.now()
        self.last_save = time.monotonic()

    def open(self) -> Lines | None:
        """The file from the resume offset (None when nothing is left to read)."""
        offset = int(self.state.get("offset", 0))
        if offset >= int(self.state.get("size") or 1):
            return None
        extra = {"Range": f"bytes={offset}-"} if offset else {}
        body = aws.client("s3").get_object(Bucket=get_settings().bucket,
                                           Key=self.job.object_key, **extra)["Body"]
        return Lines(body, offset, int(self.state.get("line", 0)))

    def read(self, lines: Lines) -> bool:
        """Apply the file's records; False when the step stopped (a bad header, or handed over)."""
        header = self.state.get("header")
        for line, row, header_now in records(self.job.format, lines, header):
            if self.job.format == "csv" and header is None:
                header = self.state["header"] = header_now
                if self._bad_header(header, row):
                    return False
                continue
            self._take(line, row)
            if len(self.chunk) >= CHUNK[self.job.kind] or not self.chunk:
                self.flush(lines)
                if self.budget.exhausted():
                    self._hand_over()
                    return False
                self._save_now_and_then()
        return True

    def _take(self, line: int, row: dict | RowError) -> None:
        if isinstance(row, RowError):
            self.progress.fail(line, row)
            return
        try:
            self.chunk.append((line, self.parse(row, self.now)))
        except RowError as err:
            self.progress.fail(line, err)

    def flush(self, lines: Lines) -> None:
        if self.chunk:
            for (line, _), err in zip(self.chunk, self.apply(self.job, self.chunk), strict=True):
                self.progress.done(line, err)
            self.budget.spend(len(self.chunk))
            self.chunk.clear()
        self.state["offset"], self.state["line"] = lines.offset, lines.line

    def finish(self, lines: Lines | None) -> None:
        if lines is not None:
            self.flush(lines)
        empty = (self.job.format == "csv" and self.state.get("header") is None
                 and self.progress.rows == 0)
        jobs.commit(self.job, [*self.progress.actions(), DataJob.rows_total.set(self.progress.rows),
                               DataJob.status.set("failed" if empty else "done"),
                               *([DataJob.error.set("the file is empty")] if empty else []),
                               DataJob.finished_at.set(clock.now())])

    def _bad_header(self, header: list[str] | None, row: dict | RowError) -> bool:
        if header is None:  # the first record is not readable CSV (the reader stops there)
            reason = row.message if isinstance(row, RowError) else "no header"
            problem: str | None = f"the CSV header cannot be read: {reason}"
        else:
            problem = import_rows.header_problem(self.job.kind, header)
        if problem:
            jobs.commit(self.job, [DataJob.status.set("failed"), DataJob.error.set(problem),
                                   DataJob.finished_at.set(clock.now())])
        return problem is not None

    def _hand_over(self) -> None:
        if jobs.commit(self.job, [*self.progress.actions(), DataJob.status.set("running")]):
            jobs.enqueue("import", self.job.tenant_id, self.job.job_id, int(self.job.step))

    def _save_now_and_then(self) -> None:
        """Counters and resume point every few seconds, without ending the step (same
        ownership condition: another delivery that owns the step now wins)."""
        if time.monotonic() - self.last_save < PROGRESS_SECONDS:
            return
        from chalicelib.db import condition_failed

        try:
            self.job.update(actions=self.progress.actions(),
                            condition=DataJob.step == int(self.job.step))
        except Exception as exc:  # noqa: BLE001 - re-raised unless another delivery owns it
            if not condition_failed(exc):
                raise
        self.last_save = time.monotonic()


def run_step(msg: dict, context: Any = None) -> None:
    job = _owned(msg)
    if job is None:
        return
    if job.started_at is None:
        job.update(actions=[DataJob.started_at.set(clock.now()), DataJob.status.set("running")],
                   condition=DataJob.step == int(job.step))
    step = Step(job, context)
    lines = step.open()
    if lines is None or step.read(lines):
        step.finish(lines)


def _owned(msg: dict) -> DataJob | None:
    """The job, if this message's step is the one to run (a repeated message finds it moved on)."""
    try:
        job = jobs.load(msg["tenant_id"], "import", msg["job_id"])
    except DomainError:
        return None
    if job.status not in ("queued", "running") or int(job.step) != int(msg["step"]):
        return None
    return job
