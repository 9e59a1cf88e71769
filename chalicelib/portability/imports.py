"""Imports: users or past events from a CSV or JSON Lines file, validated row by row and applied
idempotently by the data queue's worker.

The file reaches S3 through a presigned PUT (then ``start``) or inline in the request (≤ 5 MB).
The worker reads it as a stream from a byte offset (an S3 ranged GET), so neither the file nor a
large part of it is ever held in memory, and commits its offset, line number, counters and the first
100 row errors every few seconds and whenever it hands over to the next step.

Idempotent by content: a user's id derives from its identities and an event's key from its user,
time, type and properties (:mod:`chalicelib.audience.bulk`), and rows that match what is stored
write nothing — importing the same file twice changes nothing the second time.

Columns (CSV header; JSON Lines keys):
- users: ``openid, unionid, external_userid, brand_user_id`` (at least one), ``tags`` (comma-
  separated), optional ``first_seen_at, last_active_at, last_paid_at`` (ISO 8601 with offset).
  Other columns (an export's ``id``, ``stage``, ...) are ignored, so a users export re-imports.
- events: ``user_id`` or one identity column, ``type``, ``at`` (required: it keys the event),
  optional ``properties`` (a JSON object).
"""
from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from chalicelib import aws
from chalicelib import validate as v
from chalicelib.audience import bulk
from chalicelib.audience.rules import IDENTITY_KINDS
from chalicelib.errors import Conflict, DomainError, PayloadTooLarge, ValidationFailed
from chalicelib.portability import formats, jobs
from chalicelib.portability.models import DataJob
from chalicelib.settings import get_settings

KINDS = ("users", "events")
INLINE_MAX_BYTES = 5 * 1024 * 1024
MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024
MAX_ERRORS = 100
MAX_PROPERTIES_BYTES = 4096
CHUNK = {"users": 100, "events": 25}
PROGRESS_SECONDS = 2.0
READ_BYTES = 64 * 1024
_TIME_COLUMNS = ("first_seen_at", "last_active_at", "last_paid_at")


class RowError(Exception):
    def __init__(self, field: str | None, code: str, message: str) -> None:
        super().__init__(message)
        self.field, self.code, self.message = field, code, message

    @classmethod
    def of(cls, exc: DomainError, field: str | None = None) -> "RowError":
        name = (exc.field or field or "").removeprefix("identities.") or None
        return cls(name, exc.code, exc.message)


# ---- API ----------------------------------------------------------------------------------------

def view(job: DataJob) -> dict:
    state = job.state or {}
    result = {"id": job.job_id, "kind": job.kind, "format": job.format, "status": job.status,
              "rows_total": None if job.rows_total is None else int(job.rows_total),
              "rows_done": int(job.rows or 0), "rows_ok": int(job.rows_ok or 0),
              "rows_failed": int(job.rows_failed or 0), "errors": list(job.errors or []),
              "bytes_total": state.get("size"), "bytes_done": state.get("offset", 0),
              "created_at": jobs.iso(job.created_at), "started_at": jobs.iso(job.started_at),
              "finished_at": jobs.iso(job.finished_at)}
    if job.error:
        result["error"] = job.error
    return result


def create(tenant_id: str, body: dict) -> dict:
    v.only_keys(body, {"kind", "format", "content"})
    kind = v.choice(body, "kind", KINDS, required=True)
    fmt = v.choice(body, "format", formats.FORMATS, default="csv")
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        raise ValidationFailed("'content' must be the file's text", field="content")
    now = jobs.utcnow()
    job_id = jobs.new_job_id(now)
    job = DataJob(tenant_id=tenant_id, sk=DataJob.import_key(job_id), job_id=job_id, kind=kind,
                  format=fmt, status="created", object_key=f"imports/{tenant_id}/{job_id}.{fmt}",
                  created_at=now, expires=jobs.expires_at(now), state={"offset": 0, "line": 0})
    s3, bucket = aws.client("s3"), get_settings().bucket
    if content is None:
        job.save(condition=DataJob.sk.does_not_exist())
        headers = {"Content-Type": formats.CONTENT_TYPES[fmt]}
        url = s3.generate_presigned_url("put_object", Params={
            "Bucket": bucket, "Key": job.object_key, "ContentType": headers["Content-Type"]},
            ExpiresIn=jobs.URL_SECONDS)
        return {**view(job), "upload_url": url, "upload_method": "PUT", "upload_headers": headers,
                "upload_expires_in": jobs.URL_SECONDS}
    data = content.encode("utf-8")
    if len(data) > INLINE_MAX_BYTES:
        raise PayloadTooLarge(f"inline content is at most {INLINE_MAX_BYTES} bytes; upload larger "
                              "files to the upload_url", code="import-too-large")
    s3.put_object(Bucket=bucket, Key=job.object_key, Body=data,
                  ContentType=formats.CONTENT_TYPES[fmt])
    job.status = "queued"
    job.state = {"offset": 0, "line": 0, "size": len(data)}
    job.save(condition=DataJob.sk.does_not_exist())
    jobs.enqueue("import", tenant_id, job_id, 0)
    return {**view(job), "upload_url": None, "upload_method": None, "upload_headers": {}}


def start(tenant_id: str, job_id: str) -> dict:
    """Queue an uploaded file; starting a started import again answers its status."""
    job = jobs.load(tenant_id, "import", job_id)
    if job.status != "created":
        return view(job)
    try:
        head = aws.client("s3").head_object(Bucket=get_settings().bucket, Key=job.object_key)
    except Exception as exc:  # botocore ClientError: 404 until the file is uploaded
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchKey", "NotFound"):
            raise Conflict("upload the file to upload_url first", code="import-not-uploaded") \
                from None
        raise
    size = int(head["ContentLength"])
    if size > MAX_FILE_BYTES:
        raise PayloadTooLarge(f"an import file is at most {MAX_FILE_BYTES} bytes",
                              code="import-too-large")
    if jobs.commit(job, [DataJob.status.set("queued"),
                         DataJob.state.set({"offset": 0, "line": 0, "size": size})]):
        jobs.enqueue("import", tenant_id, job_id, int(job.step))
    return view(jobs.load(tenant_id, "import", job_id))


def get(tenant_id: str, job_id: str) -> dict:
    return view(jobs.load(tenant_id, "import", job_id))


def list_imports(tenant_id: str, limit: int, cursor: str | None) -> dict:
    return jobs.listing(tenant_id, "import", limit, cursor, view)


# ---- reading the file ---------------------------------------------------------------------------

class Lines:
    """Decoded lines of the file from a byte offset; ``offset`` and ``line`` count what has been
    handed out, so after a record is parsed they are exactly where the next one starts."""

    def __init__(self, body: Any, offset: int, line: int) -> None:
        self.body, self.offset, self.line = body, offset, line
        self.bad: set[int] = set()

    def __iter__(self) -> Iterator[str]:
        rest = b""
        for chunk in self.body.iter_chunks(READ_BYTES):
            rest += chunk
            parts = rest.split(b"\n")
            rest = parts.pop()
            for raw in parts:
                yield self._emit(raw + b"\n")
        if rest:
            yield self._emit(rest)

    def _emit(self, raw: bytes) -> str:
        first = self.offset == 0
        self.offset += len(raw)
        self.line += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.bad.add(self.line)
            text = raw.decode("utf-8", errors="replace")
        return text.removeprefix(formats.BOM) if first else text


def _records(job: DataJob, lines: Lines, header: list[str] | None
             ) -> Iterator[tuple[int, dict | RowError, list[str] | None]]:
    """(first line, row or its error, header) per record, after ``lines``' position."""
    if job.format == "jsonl":
        for text in lines:
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except ValueError as exc:
                yield lines.line, RowError(None, "invalid-json", f"not JSON: {exc}"), None
                continue
            if not isinstance(row, dict):
                yield lines.line, RowError(None, "invalid-json", "a line must be a JSON object"), None
                continue
            yield lines.line, (RowError(None, "invalid-encoding", "not UTF-8 text")
                               if lines.line in lines.bad else row), None
        return
    reader = csv.reader(iter(lines))
    while True:
        start = lines.line + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, RowError(None, "invalid-csv", str(exc)), header
            return
        if not any(c.strip() for c in cells):
            continue
        cells = [formats.unguard(c) for c in cells]
        if header is None:
            header = [c.strip().lower() for c in cells]
            yield start, {}, header
            continue
        if any(n in lines.bad for n in range(start, lines.line + 1)):
            yield start, RowError(None, "invalid-encoding", "not UTF-8 text"), header
            continue
        if len(cells) > len(header):
            yield start, RowError(None, "too-many-cells",
                                  f"{len(cells)} cells for {len(header)} columns"), header
            continue
        yield start, {name: value for name, value in zip(header, cells, strict=False) if value != ""}, header


# ---- rows ---------------------------------------------------------------------------------------

def _time(row: dict, key: str, now: datetime) -> datetime | None:
    value = row.get(key)
    if value in (None, ""):
        return None
    try:
        at = v.parse_time(value, key)
    except ValidationFailed as exc:
        raise RowError(key, "invalid-time", exc.message) from None
    if at > now + timedelta(minutes=5):
        raise RowError(key, "time-in-future", f"'{key}' must not be in the future")
    return at


def _identities(row: dict) -> dict[str, str]:
    from chalicelib.audience.rules import parse_identities

    raw = dict(row.get("identities") or {}) if isinstance(row.get("identities"), dict) else {}
    raw.update({k: row[k] for k in IDENTITY_KINDS if row.get(k) not in (None, "")})
    try:
        return parse_identities(raw)
    except ValidationFailed as exc:
        raise RowError.of(exc) from None


def parse_user(row: dict, now: datetime) -> bulk.NewUser:
    from chalicelib import tags as tagrules

    identities = _identities(row)
    if not identities:
        raise RowError("identities", "missing-identity",
                       f"a row needs at least one of: {', '.join(IDENTITY_KINDS)}")
    try:
        tags = tagrules.normalize_all(formats.split_list(row.get("tags")), "tags")
    except (ValidationFailed, TypeError) as exc:
        raise RowError("tags", getattr(exc, "code", "invalid-tag"), str(exc)) from None
    times = {k: _time(row, k, now) for k in _TIME_COLUMNS}
    return bulk.NewUser(identities, tags, **times)


def parse_event(row: dict, now: datetime) -> dict:
    from chalicelib.audience.rules import check_event_type

    user_id = row.get("user_id")
    identities = _identities(row)
    if bool(user_id) == bool(identities) or len(identities) > 1:
        raise RowError("user_id", "missing-user",
                       "a row needs either 'user_id' or exactly one identity column")
    try:
        event_type = check_event_type(row.get("type"))
    except ValidationFailed as exc:
        raise RowError.of(exc, "type") from None
    at = _time(row, "at", now)
    if at is None:
        raise RowError("at", "missing-time", "'at' is required (it identifies the event)")
    props = row.get("properties") or {}
    if isinstance(props, str):
        try:
            props = json.loads(props)
        except ValueError:
            raise RowError("properties", "invalid-json", "'properties' must be a JSON object") \
                from None
    if not isinstance(props, dict):
        raise RowError("properties", "invalid-json", "'properties' must be a JSON object")
    if len(json.dumps(props, ensure_ascii=False).encode()) > MAX_PROPERTIES_BYTES:
        raise RowError("properties", "too-large", "'properties' is at most 4 KB of JSON")
    return {"user_id": user_id, "identities": identities, "type": event_type, "at": at,
            "properties": props}


def _apply_users(tenant_id: str, rows: list[tuple[int, bulk.NewUser]]) -> list[RowError | None]:
    """New users in transactions of many; rows whose identities are known (or repeat within the
    chunk) one by one through the audience service. Returns one error (or None) per row."""
    owned = bulk.owners(tenant_id, (p for _, u in rows for p in u.identities.items()))
    fresh, known, seen = [], [], set()
    for index, (_, user) in enumerate(rows):
        pairs = set(user.identities.items())
        (known if pairs & seen or any(p in owned for p in pairs) else fresh).append(index)
        seen |= pairs
    retry = bulk.create_users(tenant_id, [rows[i][1] for i in fresh])
    known = sorted(known + [fresh[i] for i in retry])
    same = bulk.unchanged(tenant_id, [rows[i][1] for i in known], owned)
    errors: list[RowError | None] = [None] * len(rows)
    for index in (i for i, skip in zip(known, same, strict=True) if not skip):
        try:
            bulk.apply_user(tenant_id, rows[index][1])
        except DomainError as exc:
            errors[index] = RowError.of(exc)
    return errors


def _apply_events(tenant_id: str, rows: list[tuple[int, dict]]) -> list[RowError | None]:

    errors: list[RowError | None] = []
    for _, e in rows:
        try:
            user_id = e["user_id"]
            if not user_id:
                user_id = _user_for(tenant_id, e["identities"], e["at"])
            bulk.record_past_event(tenant_id, user_id, e["type"], e["at"], e["properties"])
            errors.append(None)
        except DomainError as exc:
            errors.append(RowError.of(exc, "user_id"))
    return errors


def _user_for(tenant_id: str, identities: dict[str, str], at: datetime) -> str:
    """The user holding the identity; a new one first seen at the event's time when none does
    (so its history starts there, not at the import)."""
    from chalicelib.audience import identities as resolve
    from chalicelib.audience import users

    (kind, value), = identities.items()
    found = users.find_user_id(tenant_id, kind, value)
    if found:
        return found
    if bulk.create_users(tenant_id, [bulk.NewUser(identities, [], first_seen_at=at)]):
        return resolve.identify(tenant_id, identities)[0]["id"]  # registered meanwhile
    return bulk.user_id_for(tenant_id, identities)


# ---- the worker ---------------------------------------------------------------------------------

class _Progress:
    def __init__(self, job: DataJob) -> None:
        self.state = dict(job.state or {})
        self.rows, self.ok, self.failed = int(job.rows or 0), int(job.rows_ok or 0), \
            int(job.rows_failed or 0)
        self.errors = list(job.errors or [])

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


def run_step(msg: dict, context: Any = None) -> None:
    try:
        job = jobs.load(msg["tenant_id"], "import", msg["job_id"])
    except DomainError:
        return
    if job.status not in ("queued", "running") or int(job.step) != int(msg["step"]):
        return
    progress = _Progress(job)
    state = progress.state
    offset = int(state.get("offset", 0))
    s3, bucket = aws.client("s3"), get_settings().bucket
    extra = {"Range": f"bytes={offset}-"} if offset else {}
    body = s3.get_object(Bucket=bucket, Key=job.object_key, **extra)["Body"] \
        if offset < int(state.get("size") or 1) else None
    budget = jobs.Budget(context)
    parse = parse_user if job.kind == "users" else parse_event
    apply = _apply_users if job.kind == "users" else _apply_events
    chunk: list[tuple[int, Any]] = []
    last_write = time.monotonic()
    now = jobs.utcnow()
    if job.started_at is None:
        job.update(actions=[DataJob.started_at.set(now), DataJob.status.set("running")],
                   condition=DataJob.step == int(job.step))

    def flush(position: tuple[int, int]) -> None:
        if chunk:
            for (line, _), err in zip(chunk, apply(job.tenant_id, chunk), strict=True):
                if err is None:
                    progress.rows += 1
                    progress.ok += 1
                else:
                    progress.fail(line, err)
            budget.spend(len(chunk))
            chunk.clear()
        state["offset"], state["line"] = position

    lines = Lines(body, offset, int(state.get("line", 0))) if body is not None else None
    header = state.get("header")
    for line, row, header_now in (_records(job, lines, header) if lines else ()):
        if job.format == "csv" and header is None:
            header = state["header"] = header_now
            problem = _header_problem(job.kind, header)
            if problem:
                jobs.commit(job, [DataJob.status.set("failed"), DataJob.error.set(problem),
                                  DataJob.finished_at.set(jobs.utcnow())])
                return
            continue
        if isinstance(row, RowError):
            progress.fail(line, row)
        else:
            try:
                chunk.append((line, parse(row, now)))
            except RowError as err:
                progress.fail(line, err)
        if len(chunk) >= CHUNK[job.kind] or not chunk:
            flush((lines.offset, lines.line))
            if budget.exhausted():
                if jobs.commit(job, [*progress.actions(), DataJob.status.set("running")]):
                    jobs.enqueue("import", job.tenant_id, job.job_id, int(job.step))
                return
            if time.monotonic() - last_write >= PROGRESS_SECONDS:
                _save_progress(job, progress)
                last_write = time.monotonic()
    if lines is not None:
        flush((lines.offset, lines.line))
    failed_header = job.format == "csv" and header is None and progress.rows == 0
    jobs.commit(job, [*progress.actions(), DataJob.rows_total.set(progress.rows),
                      DataJob.status.set("failed" if failed_header else "done"),
                      *([DataJob.error.set("the file is empty")] if failed_header else []),
                      DataJob.finished_at.set(jobs.utcnow())])


def _header_problem(kind: str, header: list[str]) -> str | None:
    known = set(header)
    if kind == "users" and not known & set(IDENTITY_KINDS):
        return f"the CSV header needs an identity column: {', '.join(IDENTITY_KINDS)}"
    if kind == "events" and not ({"type", "at"} <= known and known & {"user_id", *IDENTITY_KINDS}):
        return "the CSV header needs 'type', 'at' and 'user_id' or an identity column"
    return None


def _save_progress(job: DataJob, progress: _Progress) -> None:
    """Counters and resume point without ending the step (same ownership condition)."""
    try:
        job.update(actions=progress.actions(), condition=DataJob.step == int(job.step))
    except Exception as exc:  # noqa: BLE001 - another delivery owns the step now
        from chalicelib.db import condition_failed

        if not condition_failed(exc):
            raise


def fail(msg: dict, error: str) -> None:
    try:
        job = jobs.load(msg["tenant_id"], "import", msg["job_id"])
    except DomainError:
        return
    if job.status not in jobs.FINISHED:
        job.update(actions=[DataJob.status.set("failed"), DataJob.error.set(error[:500]),
                            DataJob.finished_at.set(jobs.utcnow())])
