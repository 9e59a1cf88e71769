"""Imports through the API: inline and presigned uploads, per-row errors with line/field/code,
idempotent re-runs (the audience partition is byte-for-byte unchanged), backfilled history, steps,
and the done-when round trip: 10,000 users imported then exported exactly."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.audience import activity, segments, users
from tests.conftest import auth_headers
from tests.support import portability as p
from tests.support.api import assert_error, body


def _snapshot(tenant_id: str) -> list[dict]:
    """Every audience item of the tenant, as stored (rev counters included)."""
    from chalicelib.audience.models import AudienceItem as Item

    return sorted((i.serialize() for i in Item.query(tenant_id)), key=lambda d: d["sk"]["S"])


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def test_users_import_reports_each_bad_row_with_line_field_and_code(app_client, tenant):
    content = (
        "openid,unionid,tags,first_seen_at\n"          # line 1
        "o-good-1,u-1,\"vip,北京\",\n"                   # 2 ok
        "o bad,,,\n"                                     # 3 identity with a space
        ",,vip,\n"                                       # 4 no identity
        "o-good-2,,\"a#b\",\n"                           # 5 bad tag
        "o-good-3,,,yesterday\n"                         # 6 bad time
        "o-good-4,,\"multi\nline\",\n"                   # 7-8 a quoted cell spanning lines: ok
        "o-good-5,,,2999-01-01T00:00:00Z\n"              # 9 future
        "o-good-6,,,,,extra\n"                           # 10 too many cells
        "o-good-7,u-7,,2025-03-01T08:00:00+08:00\n"      # 11 ok
    )
    job = p.run_import(app_client, tenant, "users", content)
    assert job["status"] == "done", job
    assert (job["rows_total"], job["rows_ok"], job["rows_failed"]) == (9, 3, 6)
    got = [(e["line"], e["field"], e["code"]) for e in job["errors"]]
    assert got == [(3, "openid", "invalid-identity"), (4, "identities", "missing-identity"),
                   (5, "tags", "invalid-tag"), (6, "first_seen_at", "invalid-time"),
                   (9, "first_seen_at", "time-in-future"), (10, None, "too-many-cells")]
    assert all(e["message"] for e in job["errors"])
    tid = tenant["tenant_id"]
    user = users.find_user(tid, "openid", "o-good-1")
    assert user["tags"] == ["vip", "北京"] and user["identities"]["unionid"] == "u-1"
    assert users.find_user(tid, "openid", "o-good-4")["tags"] == ["multi line"]
    old = users.find_user(tid, "openid", "o-good-7")
    assert old["first_seen_at"] == "2025-03-01T00:00:00+00:00" and old["stage"] == "churned"
    assert users.find_user(tid, "openid", "o-good-2") is None


def test_reimporting_the_same_file_changes_nothing(app_client, tenant):
    tid = tenant["tenant_id"]
    existing = users.create_user(tid, {"openid": "o-3"}, tags=["old"])
    rows = [[f"o-{i}", f"b-{i}", "vip" if i % 2 else "vip,new", ""] for i in range(30)]
    rows.append(["o-1", "", "second-row-same-user", ""])
    content = _csv(["openid", "brand_user_id", "tags", "first_seen_at"], rows)
    first = p.run_import(app_client, tenant, "users", content)
    assert (first["rows_ok"], first["rows_failed"]) == (31, 0)
    before = _snapshot(tid)
    assert sum(1 for d in before if d["sk"]["S"].startswith("U#")) == 30
    again = p.run_import(app_client, tenant, "users", content)
    assert (again["rows_ok"], again["rows_failed"]) == (31, 0)
    assert _snapshot(tid) == before  # not one item written, not even a revision counter
    merged = users.find_user(tid, "openid", "o-3")
    assert merged["id"] == existing["id"] and merged["tags"] == ["old", "vip"]
    assert merged["identities"] == {"openid": "o-3", "brand_user_id": "b-3"}
    assert users.find_user(tid, "openid", "o-1")["tags"] == ["second-row-same-user", "vip"]


def test_backfilled_events_set_history_and_stage_once(app_client, tenant):
    tid = tenant["tenant_id"]
    now = datetime.now(timezone.utc)
    recent = (now - timedelta(days=2)).isoformat()
    long_ago = (now - timedelta(days=200)).isoformat()
    user = users.create_user(tid, {"brand_user_id": "B1"})
    lines = [
        {"brand_user_id": "B1", "type": "order_paid", "at": recent, "properties": {"amount": 99}},
        {"brand_user_id": "B1", "type": "joined_group", "at": long_ago},
        {"user_id": user["id"], "type": "viewed", "at": long_ago},
        {"openid": "o-new", "type": "joined_group", "at": long_ago},
        {"brand_user_id": "B1", "type": "Bad Type", "at": recent},
        {"brand_user_id": "B1", "type": "viewed"},
        {"user_id": "nosuchuser00", "type": "viewed", "at": recent},
    ]
    content = "\n".join(json.dumps(x) for x in lines) + "\n"
    job = p.run_import(app_client, tenant, "events", content, fmt="jsonl")
    assert (job["rows_ok"], job["rows_failed"]) == (4, 3), job
    assert [(e["line"], e["field"], e["code"]) for e in job["errors"]] == [
        (5, "type", "invalid-event-type"), (6, "at", "missing-time"),
        (7, "user_id", "user-not-found")]
    got = users.get_user(tid, user["id"])
    assert got["first_seen_at"] == datetime.fromisoformat(long_ago).isoformat()
    assert got["last_paid_at"] == datetime.fromisoformat(recent).isoformat()
    assert got["stage"] == "paying" and got["event_count"] == 3
    created = users.find_user(tid, "openid", "o-new")
    assert created["first_seen_at"] == datetime.fromisoformat(long_ago).isoformat()
    assert created["stage"] == "churned"
    assert user["id"] in set(segments.iter_audience(tid, stages=["paying"]))
    types = sorted(e["type"] for e in activity.list_events(tid, user["id"]))
    assert types == ["joined_group", "order_paid", "viewed"]
    before = _snapshot(tid)
    again = p.run_import(app_client, tenant, "events", content, fmt="jsonl")
    assert again["rows_ok"] == 4 and _snapshot(tid) == before


def test_presigned_upload_then_start(app_client, tenant):
    import requests

    h = auth_headers(tenant)
    resp = app_client.http.post("/v1/imports", headers=h,
                                body=json.dumps({"kind": "users", "format": "csv"}))
    assert resp.status_code == 201
    job = body(resp)
    assert job["status"] == "created" and job["upload_method"] == "PUT"
    assert_error(app_client.http.post(f"/v1/imports/{job['id']}/start", headers=h), 409,
                 "import-not-uploaded")
    data = "\ufeffopenid,tags\no-put-1,vip\no-put-2,\n".encode()
    put = requests.put(job["upload_url"], data=data, headers=job["upload_headers"], timeout=30)
    assert put.status_code == 200, put.text
    started = app_client.http.post(f"/v1/imports/{job['id']}/start", headers=h)
    assert started.status_code == 202 and body(started)["status"] == "queued"
    assert body(started)["bytes_total"] == len(data)
    p.drain_data()
    done = body(app_client.http.get(f"/v1/imports/{job['id']}", headers=h))
    assert (done["status"], done["rows_ok"], done["bytes_done"]) == ("done", 2, len(data))
    assert users.find_user(tenant["tenant_id"], "openid", "o-put-1")["tags"] == ["vip"]
    again = app_client.http.post(f"/v1/imports/{job['id']}/start", headers=h)
    assert again.status_code == 202 and body(again)["status"] == "done"


@pytest.fixture
def big_tenant(aws_stack):
    with p.own_tables() as tenant:
        yield tenant


def test_a_long_import_continues_through_steps(app_client, big_tenant, monkeypatch):
    tenant = big_tenant
    p.small_steps(monkeypatch, rows=150)
    rows = [[f"step-{i:04d}", "" if i != 333 else "bad#tag"] for i in range(1000)]
    job = p.run_import(app_client, tenant, "users", _csv(["openid", "tags"], rows))
    assert (job["status"], job["rows_total"], job["rows_ok"]) == ("done", 1000, 999)
    assert job["errors"] == [{"line": 335, "field": "tags", "code": "invalid-tag",
                              "message": job["errors"][0]["message"]}]
    from chalicelib.portability.models import DataJob

    assert int(DataJob.get(tenant["tenant_id"], DataJob.import_key(job["id"])).step) >= 1000 // 200
    page = body(app_client.http.get("/v1/users?limit=100", headers=auth_headers(tenant)))
    assert len(page["items"]) == 100 and page["next_cursor"]


def test_bad_files_and_requests(app_client, tenant, other_tenant):
    job = p.run_import(app_client, tenant, "users", "name,city\nx,y\n")
    assert job["status"] == "failed" and "identity column" in job["error"]
    job = p.run_import(app_client, tenant, "users", "")
    assert job["status"] == "failed" and job["error"] == "the file is empty"
    job = p.run_import(app_client, tenant, "users", "{\"openid\": \"j1\"}\nnot json\n[1]\n",
                       fmt="jsonl")
    assert [(e["line"], e["code"]) for e in job["errors"]] == [(2, "invalid-json"),
                                                             (3, "invalid-json")]
    h = auth_headers(tenant)
    big = "openid\n" + "x" * (5 * 1024 * 1024)
    resp = app_client.http.post("/v1/imports", headers=h,
                                body=json.dumps({"kind": "users", "content": big}))
    assert_error(resp, 413, "import-too-large")
    for bad, field in (({"kind": "orders"}, "kind"), ({"kind": "users", "format": "xml"}, "format"),
                       ({"kind": "users", "content": 5}, "content")):
        resp = app_client.http.post("/v1/imports", headers=h, body=json.dumps(bad))
        assert_error(resp, 400)
        assert body(resp)["error"]["field"] == field
    resp = app_client.http.get(f"/v1/imports/{job['id']}", headers=auth_headers(other_tenant))
    assert_error(resp, 404, "import-not-found")
    listed = body(app_client.http.get("/v1/imports?limit=10", headers=h))
    assert listed["items"][0]["id"] == job["id"] and len(listed["items"]) == 3


def test_a_first_line_that_is_not_csv_fails_the_import(app_client, tenant):
    """The header record unreadable as CSV (a field past the csv module's size limit): the job
    fails with the reader's reason (it used to crash the step on the missing header)."""
    job = p.run_import(app_client, tenant, "users", '"' + "x" * 200_000 + '"\nopenid\no-1\n')
    assert job["status"] == "failed"
    assert job["error"].startswith("the CSV header cannot be read: field larger than field limit")


def test_round_trip_of_10000_users_is_exact(app_client, big_tenant):
    """Done-when: a 10,000-user file imported, then exported, gives the same users back."""
    tenant = big_tenant
    header = ["openid", "unionid", "brand_user_id", "tags", "first_seen_at"]
    base = datetime(2024, 3, 1, tzinfo=timezone(timedelta(hours=8)))  # no day buckets: past TTL
    rows = []
    for i in range(10_000):
        tags = sorted({f"t{i % 7}", "vip" if i % 3 == 0 else "普通", *(["=x"] if i == 5 else [])})
        rows.append([f"o{i:05d}", f"u{i:05d}" if i % 2 else "",
                     f"b-{i}" if i % 5 == 0 else "", ",".join(tags),
                     (base + timedelta(minutes=i)).isoformat()])
    content = _csv(header, rows)
    job = p.run_import(app_client, tenant, "users", content)
    assert (job["status"], job["rows_ok"], job["rows_failed"]) == ("done", 10_000, 0), job
    export = p.run_export(app_client, tenant, "users")
    assert export["rows"] == 10_000
    exported = p.csv_rows(p.fetch_url(export["url"]))
    back = sorted([r[c] for c in header] for r in exported)
    for r in back:
        r[3] = r[3].removeprefix("'")  # the formula guard of a cell starting with '='
    assert back == sorted(rows)
    assert len({r["id"] for r in exported}) == 10_000


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_file_reimports_into_another_tenant(app_client, tenant, other_tenant, fmt):
    tid = tenant["tenant_id"]
    for i in range(5):
        users.create_user(tid, {"openid": f"o-{i}", "external_userid": f"wm-{i}"},
                             tags=["vip", "=1+1"] if i == 2 else ["vip"])
    export = p.run_export(app_client, tenant, "users", fmt)
    data = p.fetch_url(export["url"]).decode("utf-8")
    job = p.run_import(app_client, other_tenant, "users", data, fmt=fmt)
    assert job["rows_ok"] == 5, job
    copied = users.find_user(other_tenant["tenant_id"], "openid", "o-2")
    assert copied["tags"] == ["=1+1", "vip"] and copied["identities"]["external_userid"] == "wm-2"


class _Record:
    def __init__(self, msg: dict, receives: int) -> None:
        self.body, self._receives = json.dumps(msg), receives

    def to_dict(self) -> dict:
        return {"attributes": {"ApproximateReceiveCount": str(self._receives)}}


def test_a_step_that_keeps_failing_fails_the_job_on_its_last_receive(app_client, tenant,
                                                                      monkeypatch):
    from chalicelib.portability import import_worker, jobs

    h = auth_headers(tenant)
    job = body(app_client.http.post("/v1/imports", headers=h, body=json.dumps(
        {"kind": "users", "format": "csv", "content": "openid\no-1\n"})))
    monkeypatch.setattr(import_worker, "run_step", lambda msg, context=None: 1 / 0)
    msg = {"op": "import", "tenant_id": tenant["tenant_id"], "job_id": job["id"], "step": 0}
    with pytest.raises(ZeroDivisionError):  # SQS retries it
        jobs.handle_messages([_Record(msg, jobs.MAX_RECEIVES - 1)])
    assert body(app_client.http.get(f"/v1/imports/{job['id']}", headers=h))["status"] == "queued"
    jobs.handle_messages([_Record(msg, jobs.MAX_RECEIVES)])
    got = body(app_client.http.get(f"/v1/imports/{job['id']}", headers=h))
    assert got["status"] == "failed" and got["error"].startswith("ZeroDivisionError")
    p.drain_data()  # the queued message finds the job finished and does nothing
    assert body(app_client.http.get(f"/v1/imports/{job['id']}", headers=h))["status"] == "failed"
