"""Exports: a request queues a job; the data queue's worker streams rows into an S3 multipart
upload and the API answers the job's status and, when done, a presigned download URL.

Memory stays flat: rows are encoded as they are read and each full part (``export_part_bytes``,
8 MiB by default) is uploaded and dropped. A job that outlives one step (see
:mod:`chalicelib.portability.jobs`) parks its partial part in S3 (``<file>.step-<n>``) and hands its
resume point to the next step's message; the upload id and the part ETags ride on the job item.
"""
from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib import aws, clock
from chalicelib import validate as v
from chalicelib.errors import DomainError
from chalicelib.portability import formats, jobs, sources
from chalicelib.portability.models import DataJob
from chalicelib.settings import get_settings

log = logging.getLogger("yutang.exports")
KINDS = tuple(sources.KINDS)
READ_CHUNK = 256 * 1024  # encoded text moved into the part buffer this often


def view(job: DataJob) -> dict:
    result = {"id": job.job_id, "kind": job.kind, "format": job.format, "status": job.status,
              "filter": job.filter or {}, "timezone": job.timezone, "rows": int(job.rows or 0),
              "url": None, "created_at": jobs.iso(job.created_at),
              "started_at": jobs.iso(job.started_at),
              "finished_at": jobs.iso(job.finished_at)}
    if job.error:
        result["error"] = job.error
    if job.status == "done":
        result["url"] = _download_url(job)
        result["expires_in"] = jobs.URL_SECONDS
    return result


def _download_url(job: DataJob) -> str:
    name = f"{job.kind}-{job.job_id}.{job.format}"
    return aws.client("s3").generate_presigned_url("get_object", Params={
        "Bucket": get_settings().bucket, "Key": job.object_key,
        "ResponseContentDisposition": f'attachment; filename="{name}"'},
        ExpiresIn=jobs.URL_SECONDS)


def create(tenant_id: str, body: dict) -> dict:
    from chalicelib.auth.service import get_tenant

    v.only_keys(body, {"kind", "format", "filter"})
    kind = v.choice(body, "kind", KINDS, required=True)
    fmt = v.choice(body, "format", formats.FORMATS, default="csv")
    filt = sources.check_filter(kind, v.object_(body, "filter") or {})
    now = clock.now()
    job_id = jobs.new_job_id(now)
    job = DataJob(tenant_id=tenant_id, sk=DataJob.export_key(job_id), job_id=job_id, kind=kind,
                  format=fmt, status="queued", filter=filt or None,
                  object_key=f"exports/{tenant_id}/{job_id}.{fmt}",
                  timezone=get_tenant(tenant_id).timezone or get_settings().default_timezone,
                  created_at=now, expires=jobs.expires_at(now))
    job.save(condition=DataJob.sk.does_not_exist())
    jobs.enqueue("export", tenant_id, job_id, 0)
    return view(job)


def get(tenant_id: str, job_id: str) -> dict:
    return view(jobs.load(tenant_id, "export", job_id))


def list_exports(tenant_id: str, limit: int, cursor: str | None) -> dict:
    return jobs.listing(tenant_id, "export", limit, cursor, view)


# ---- the worker ---------------------------------------------------------------------------------

class _Upload:
    """The multipart upload of one export: parts of at least ``export_part_bytes``."""

    def __init__(self, job: DataJob, state: dict) -> None:
        self.s3, self.bucket, self.key = aws.client("s3"), get_settings().bucket, job.object_key
        self.part_bytes = get_settings().export_part_bytes
        self.state = state
        if not state.get("upload_id"):
            state.update(after=None, parts=[], pending=None, upload_id=self.s3.create_multipart_upload(
                Bucket=self.bucket, Key=self.key,
                ContentType=formats.CONTENT_TYPES[job.format])["UploadId"])
        self.buffer = bytearray()
        if state.get("pending"):
            self.buffer += self.s3.get_object(Bucket=self.bucket, Key=state["pending"])["Body"].read()

    def add(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= self.part_bytes:
            self._upload_part()

    def _upload_part(self) -> None:
        number = len(self.state["parts"]) + 1
        etag = self.s3.upload_part(Bucket=self.bucket, Key=self.key, PartNumber=number,
                                   UploadId=self.state["upload_id"], Body=bytes(self.buffer))["ETag"]
        self.state["parts"].append(etag)
        self.buffer = bytearray()

    def park(self, step: int) -> str | None:
        """Keep the partial part for the next step; returns its key (None when empty)."""
        if not self.buffer:
            return None
        key = f"{self.key}.step-{step}"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=bytes(self.buffer))
        return key

    def finish(self) -> None:
        if not self.state["parts"]:  # smaller than one part: one plain PUT
            self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self.buffer),
                               ContentType=self._content_type())
            self.abort()
            return
        if self.buffer:
            self._upload_part()
        self.s3.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.state["upload_id"],
            MultipartUpload={"Parts": [{"ETag": e, "PartNumber": n + 1}
                                       for n, e in enumerate(self.state["parts"])]})

    def _content_type(self) -> str:
        return formats.CONTENT_TYPES["csv" if self.key.endswith(".csv") else "jsonl"]

    def abort(self) -> None:
        try:
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key,
                                           UploadId=self.state["upload_id"])
        except Exception:  # noqa: BLE001 - already completed or gone: nothing to clean
            log.info("multipart upload %s already closed", self.state.get("upload_id"))

    def drop(self, key: str | None) -> None:
        if key:
            self.s3.delete_object(Bucket=self.bucket, Key=key)


def run_step(msg: dict, context: Any = None) -> None:
    """One step of an export job: write rows until the source ends or the step's budget is spent."""
    try:
        job = jobs.load(msg["tenant_id"], "export", msg["job_id"])
    except DomainError:
        return  # expired or never committed: nothing to do
    if job.status in jobs.FINISHED or int(job.step) != int(msg["step"]):
        return  # a duplicate delivery of a step that already committed
    columns, _, reader = sources.KINDS[job.kind]
    if job.started_at is None:
        job.update(actions=[DataJob.status.set("running"), DataJob.started_at.set(clock.now())],
                   condition=DataJob.step == int(job.step))
    state = dict(job.state or {})
    first = not state.get("upload_id")
    upload = _Upload(job, state)
    parked = state.get("pending")
    encoder = formats.Encoder(job.format, columns)
    if first:
        encoder.header()
    budget = jobs.Budget(context)
    rows = int(job.rows or 0)
    try:
        for row, resume in reader(job.tenant_id, job.filter or {}, state.get("after"),
                                  ZoneInfo(job.timezone)):
            encoder.write(row)
            rows += 1
            budget.spend()
            if encoder.pending() >= READ_CHUNK:
                upload.add(encoder.take())
            if resume is None:
                continue
            state["after"] = resume
            if budget.exhausted():
                upload.add(encoder.take())
                _hand_over(job, upload, state, rows, parked)
                return
    except DomainError as exc:  # the filter no longer holds (a campaign deleted...): final
        upload.abort()
        jobs.commit(job, [DataJob.status.set("failed"), DataJob.error.set(exc.message),
                          DataJob.finished_at.set(clock.now()), DataJob.rows.set(rows)])
        return
    upload.add(encoder.take())
    upload.finish()
    if jobs.commit(job, [DataJob.status.set("done"), DataJob.rows.set(rows),
                         DataJob.finished_at.set(clock.now()), DataJob.state.remove()]):
        upload.drop(parked)


def _hand_over(job: DataJob, upload: _Upload, state: dict, rows: int, parked: str | None) -> None:
    step = int(job.step)
    state["pending"] = upload.park(step)
    actions = [DataJob.status.set("running"), DataJob.rows.set(rows), DataJob.state.set(state)]
    if jobs.commit(job, actions):
        upload.drop(parked)
        jobs.enqueue("export", job.tenant_id, job.job_id, step + 1)
