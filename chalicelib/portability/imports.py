"""Imports: users or past events from a CSV or JSON Lines file — the API side (create, start,
read, list). The data queue's worker (:mod:`chalicelib.portability.import_worker`) validates
every row and applies good rows idempotently.

The file reaches S3 through a presigned PUT (then ``start``) or inline in the request (≤ 5 MB).
Rows and columns: :mod:`chalicelib.portability.import_rows`; reading the file as a stream:
:mod:`chalicelib.portability.import_file`.
"""
from __future__ import annotations

from chalicelib import aws, clock
from chalicelib import validate as v
from chalicelib.error_codes import IMPORT_NOT_UPLOADED, IMPORT_TOO_LARGE
from chalicelib.errors import Conflict, PayloadTooLarge, ValidationFailed
from chalicelib.portability import formats, jobs
from chalicelib.portability.models import DataJob
from chalicelib.settings import get_settings

KINDS = ("users", "events")
INLINE_MAX_BYTES = 5 * 1024 * 1024
MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024


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
    now = clock.now()
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
                              "files to the upload_url", code=IMPORT_TOO_LARGE)
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
            raise Conflict("upload the file to upload_url first", code=IMPORT_NOT_UPLOADED) \
                from None
        raise
    size = int(head["ContentLength"])
    if size > MAX_FILE_BYTES:
        raise PayloadTooLarge(f"an import file is at most {MAX_FILE_BYTES} bytes",
                              code=IMPORT_TOO_LARGE)
    if jobs.commit(job, [DataJob.status.set("queued"),
                         DataJob.state.set({"offset": 0, "line": 0, "size": size})]):
        jobs.enqueue("import", tenant_id, job_id, int(job.step))
    return view(jobs.load(tenant_id, "import", job_id))


def get(tenant_id: str, job_id: str) -> dict:
    return view(jobs.load(tenant_id, "import", job_id))


def list_imports(tenant_id: str, limit: int, cursor: str | None) -> dict:
    return jobs.listing(tenant_id, "import", limit, cursor, view)
