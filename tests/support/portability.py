"""Helpers for export and import tests: run the data queue's worker, read an export's file."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

import app as app_module
from devstack.drain import drain_once
from tests.conftest import auth_headers
from tests.support.api import body


def drain_data() -> int:
    from chalicelib.settings import get_settings

    return drain_once(get_settings().data_queue, app_module.handle_data_jobs, max_batches=10_000,
                      visibility_timeout=0)


def fetch_url(url: str) -> bytes:
    """GET a presigned S3 URL as a browser would (moto intercepts the request in process)."""
    import requests

    resp = requests.get(url, timeout=30)
    assert resp.status_code == 200, resp.text[:300]
    return resp.content


def object_key(url: str) -> str:
    path = urlparse(url).path.lstrip("/")
    return path.split("/", 1)[1]  # path-style: /<bucket>/<key>


def run_export(client, tenant: dict, kind: str, fmt: str = "csv", filt: dict | None = None) -> dict:
    payload = {"kind": kind, "format": fmt, **({"filter": filt} if filt is not None else {})}
    resp = client.http.post("/v1/exports", headers=auth_headers(tenant), body=json.dumps(payload))
    assert resp.status_code == 202, resp.body
    job = body(resp)
    assert job["status"] == "queued"
    drain_data()
    return body(client.http.get(f"/v1/exports/{job['id']}", headers=auth_headers(tenant)))


def csv_rows(data: bytes) -> list[dict]:
    assert data.startswith("\ufeff".encode()), "CSV exports start with a UTF-8 BOM"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def jsonl_rows(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode("utf-8").splitlines() if line]


def run_import(client, tenant: dict, kind: str, content: str, fmt: str = "csv") -> dict:
    resp = client.http.post("/v1/imports", headers=auth_headers(tenant),
                            body=json.dumps({"kind": kind, "format": fmt, "content": content}))
    assert resp.status_code == 201, resp.body
    job = body(resp)
    drain_data()
    return body(client.http.get(f"/v1/imports/{job['id']}", headers=auth_headers(tenant)))


def small_steps(monkeypatch, rows: int = 7, part_bytes: int = 300) -> None:
    """Worker steps of ``rows`` rows and export parts of ``part_bytes`` (moto's part floor lowered
    to match), so a small job runs through continuations and a real multipart upload."""
    import moto.s3.models as s3_models

    from chalicelib.portability import exports, imports, jobs
    from chalicelib.settings import get_settings

    cfg = get_settings()._replace(data_step_rows=rows, export_part_bytes=part_bytes)
    for module in (jobs, exports, imports):
        monkeypatch.setattr(module, "get_settings", lambda: cfg)
    monkeypatch.setattr(s3_models, "S3_UPLOAD_PART_MIN_SIZE", part_bytes)


@contextmanager
def own_tables(prefix: str = "big-") -> Iterator[dict]:
    """Tables of their own (a second table prefix in the same moto) for a test that writes
    thousands of users: the emulator's Query reads a whole partition for every page, so the
    shared tables must stay small for the rest of the session. Yields a fresh tenant; the
    tables are deleted afterwards."""
    from chalicelib import db
    from chalicelib.auth import service as auth
    from chalicelib.settings import get_settings

    cfg = get_settings()._replace(table_prefix=prefix)
    original = db.get_settings
    db.get_settings = lambda: cfg
    db.unbind_all()
    auth.clear_caches()
    try:
        db.create_tables()
        yield auth.create_tenant("Big tenant")
    finally:
        try:
            for model in db.all_models():
                if model.Meta.table_name.startswith(prefix):
                    model.delete_table()
        finally:
            db.get_settings = original
            db.unbind_all()
            auth.clear_caches()
