"""Exports through the API: queued, written by the data queue's worker in parts and steps, read
back from the presigned URL (CSV with a BOM parsed with csv, JSON Lines), per-kind filters, times
in the tenant's timezone, tenant isolation."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.audience import users as audience
from chalicelib.ids import new_id
from tests.conftest import auth_headers
from tests.support import portability as p
from tests.support.api import assert_error, body


def _post(client, tenant, payload):
    return client.http.post("/v1/exports", headers=auth_headers(tenant), body=json.dumps(payload))


@pytest.fixture
def small_steps(monkeypatch):
    p.small_steps(monkeypatch)


def test_users_csv_has_a_bom_and_parses_back_with_local_times(app_client, tenant):
    tid = tenant["tenant_id"]
    users = [audience.create_user(tid, {"openid": f"o-{i}", "unionid": f"u-{i}"},
                                  tags=["vip", "北京"] if i % 2 else ["=cmd"]) for i in range(5)]
    job = p.run_export(app_client, tenant, "users")
    assert job["status"] == "done" and job["rows"] == 5 and job["timezone"] == "Asia/Shanghai"
    assert job["url"] and job["finished_at"]
    data = p.fetch_url(job["url"])
    rows = p.csv_rows(data)
    assert [r["id"] for r in rows] == sorted(u["id"] for u in users)
    by_id = {u["id"]: u for u in users}
    for row in rows:
        user = by_id[row["id"]]
        assert row["openid"] == user["identities"]["openid"]
        assert row["unionid"] == user["identities"]["unionid"] and row["brand_user_id"] == ""
        assert row["stage"] == "new" and row["event_count"] == "0"
        first = datetime.fromisoformat(row["first_seen_at"])
        assert first.utcoffset() == timedelta(hours=8)
        assert first == datetime.fromisoformat(user["first_seen_at"])
        # a cell Excel would run as a formula is quoted with a leading apostrophe
        assert row["tags"] in ("vip,北京", "'=cmd")


def test_users_jsonl_with_a_tag_and_stage_filter(app_client, tenant):
    tid = tenant["tenant_id"]
    vip = {audience.create_user(tid, {"brand_user_id": new_id()}, tags=["vip"])["id"]
           for _ in range(3)}
    for _ in range(2):
        audience.create_user(tid, {"brand_user_id": new_id()}, tags=["other"])
    job = p.run_export(app_client, tenant, "users", "jsonl", {"tags": ["vip"], "stage": "new"})
    rows = p.jsonl_rows(p.fetch_url(job["url"]))
    assert job["rows"] == 3 and {r["id"] for r in rows} == vip
    assert all(r["tags"] == ["vip"] for r in rows)
    job = p.run_export(app_client, tenant, "users", "jsonl", {"tags": "vip", "stage": "churned"})
    assert job["status"] == "done" and job["rows"] == 0
    assert p.fetch_url(job["url"]) == b""


def test_a_long_export_continues_through_steps_and_parts(app_client, tenant, small_steps):
    tid = tenant["tenant_id"]
    ids = sorted(audience.create_user(tid, {"openid": f"open-{i:03d}"}, tags=["t"])["id"]
                 for i in range(40))
    sent = []
    from chalicelib import aws
    from chalicelib.portability import exports

    original = exports._Upload._upload_part

    def counting(self):
        sent.append(len(self.buffer))
        original(self)

    exports._Upload._upload_part = counting
    try:
        job = p.run_export(app_client, tenant, "users")
    finally:
        exports._Upload._upload_part = original
    assert job["status"] == "done" and job["rows"] == 40
    rows = p.csv_rows(p.fetch_url(job["url"]))
    assert [r["id"] for r in rows] == ids  # each once, in order, across steps and parts
    assert len(sent) >= 5 and all(n >= 300 for n in sent[:-1])
    from chalicelib.portability.models import DataJob

    item = DataJob.get(tid, DataJob.export_key(job["id"]))
    assert int(item.step) >= 40 // 7 and item.state is None
    listed = aws.client("s3").list_objects_v2(Bucket="yutang-test", Prefix=f"exports/{tid}/")
    assert [o["Key"] for o in listed["Contents"]] == [f"exports/{tid}/{job['id']}.csv"]


def test_a_duplicate_step_message_changes_nothing(app_client, tenant, small_steps):
    from chalicelib.portability import exports, jobs

    tid = tenant["tenant_id"]
    for i in range(10):
        audience.create_user(tid, {"openid": f"dup-{i}"})
    job = p.run_export(app_client, tenant, "users")
    exports.run_step({"tenant_id": tid, "job_id": job["id"], "step": 0})  # SQS re-delivers
    jobs.enqueue("export", tid, job["id"], 1)
    p.drain_data()
    again = body(app_client.http.get(f"/v1/exports/{job['id']}", headers=auth_headers(tenant)))
    assert again["rows"] == 10 and again["status"] == "done"
    assert len(p.csv_rows(p.fetch_url(again["url"]))) == 10


def test_deliveries_export_with_campaign_and_status_filters(app_client, tenant):
    tid = tenant["tenant_id"]
    vip = sorted(audience.create_user(tid, {"brand_user_id": new_id()}, tags=["vip"])["id"]
                 for _ in range(4))
    resp = app_client.http.post("/v1/campaigns", headers=auth_headers(tenant), body=json.dumps(
        {"name": "双11", "audience": {"tags_all": ["vip"]}, "message": {"text": "福利"}}))
    campaign = body(resp)
    app_client.http.post(f"/v1/campaigns/{campaign['id']}/run", headers=auth_headers(tenant))
    import app as app_module
    from devstack.drain import drain_once

    drain_once("yutang-sends", app_module.handle_sends, visibility_timeout=0)
    job = p.run_export(app_client, tenant, "deliveries", filt={"campaign_id": campaign["id"],
                                                               "status": "sent"})
    rows = p.csv_rows(p.fetch_url(job["url"]))
    assert sorted(r["user_id"] for r in rows) == vip
    assert {(r["campaign_name"], r["status"]) for r in rows} == {("双11", "sent")}
    assert all(datetime.fromisoformat(r["at"]).utcoffset() == timedelta(hours=8) for r in rows)
    everything = p.run_export(app_client, tenant, "deliveries")
    assert everything["rows"] == 4
    later = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    assert p.run_export(app_client, tenant, "deliveries", filt={"from": later})["rows"] == 0
    assert p.run_export(app_client, tenant, "deliveries", filt={"status": "failed"})["rows"] == 0


def test_contents_and_participants_exports(app_client, tenant):
    from tests.support import fission

    h = auth_headers(tenant)
    for title, tags in (("护眼指南", ["护眼"]), ("新品", ["上新"]), ("护眼 2", ["护眼", "上新"])):
        app_client.http.post("/v1/contents", headers=h, body=json.dumps(
            {"type": "text", "title": title, "body": "…", "tags": tags}))
    job = p.run_export(app_client, tenant, "contents", "jsonl", {"tags": ["护眼"]})
    rows = p.jsonl_rows(p.fetch_url(job["url"]))
    assert sorted(r["title"] for r in rows) == ["护眼 2", "护眼指南"]
    assert all(r["views"] == 0 and "护眼" in r["tags"] for r in rows)
    task = fission.make_task(app_client, tenant)
    names = ["小明", "=HYPERLINK()", "阿花"]
    for name in names:
        resp = fission.post(app_client, tenant, f"/v1/fission-tasks/{task['id']}/participants",
                            {"nickname": name})
        assert resp.status_code == 201, resp.body
    job = p.run_export(app_client, tenant, "participants", filt={"task_id": task["id"]})
    rows = p.csv_rows(p.fetch_url(job["url"]))
    assert sorted(r["nickname"] for r in rows) == sorted(["小明", "'=HYPERLINK()", "阿花"])
    assert {(r["task_id"], r["goal"], r["rewarded"]) for r in rows} == {(task["id"], "3", "false")}
    assert p.run_export(app_client, tenant, "participants", filt={"rewarded": True})["rows"] == 0


@pytest.mark.parametrize("payload, field", [
    ({"kind": "orders"}, "kind"),
    ({"kind": "users", "format": "xlsx"}, "format"),
    ({"kind": "users", "filter": {"colour": "red"}}, "colour"),
    ({"kind": "users", "filter": {"stage": "sleeping"}}, "stages"),
    ({"kind": "deliveries", "filter": {"from": "yesterday"}}, "from"),
    ({"kind": "users", "extra": 1}, "extra"),
])
def test_bad_export_requests_are_400(app_client, tenant, payload, field):
    resp = _post(app_client, tenant, payload)
    assert_error(resp, 400)
    assert body(resp)["error"]["field"] == field


def test_exports_list_newest_first_and_are_tenant_scoped(app_client, tenant, other_tenant):
    ids = [body(_post(app_client, tenant, {"kind": "users"}))["id"] for _ in range(3)]
    h = auth_headers(tenant)
    first = body(app_client.http.get("/v1/exports?limit=2", headers=h))
    assert [e["id"] for e in first["items"]] == ids[::-1][:2] and first["next_cursor"]
    rest = body(app_client.http.get(f"/v1/exports?limit=2&cursor={first['next_cursor']}",
                                    headers=h))
    assert [e["id"] for e in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    assert body(app_client.http.get("/v1/exports", headers=auth_headers(other_tenant)))[
        "items"] == []
    resp = app_client.http.get(f"/v1/exports/{ids[0]}", headers=auth_headers(other_tenant))
    assert_error(resp, 404, "export-not-found")
    assert_error(app_client.http.get("/v1/exports/nope", headers=h), 404, "export-not-found")
    assert_error(app_client.http.get("/v1/exports?cursor=../x", headers=h), 400, "invalid-cursor")


WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.43(0x18002b2c) NetType/WIFI")
BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def test_scans_export_reads_the_scan_log(app_client, tenant):
    import app as app_module
    from devstack.drain import drain_once

    h = auth_headers(tenant)
    codes = []
    for name in ("甲", "乙"):
        resp = app_client.http.post("/v1/livecodes", headers=h, body=json.dumps(
            {"name": name, "channel": "poster", "strategy": "fill",
             "targets": [{"kind": "url", "name": "官网", "url": "https://example.com/a"}]}))
        codes.append(body(resp))
    for ua in (WECHAT_UA, WECHAT_UA, BOT_UA):
        app_client.http.get(f"/s/{codes[0]['slug']}",
                            headers={"Accept": "application/json", "User-Agent": ua})
    app_client.http.get(f"/s/{codes[1]['slug']}",
                        headers={"Accept": "application/json", "User-Agent": WECHAT_UA})
    drain_once("yutang-events", app_module.handle_events, visibility_timeout=0)
    job = p.run_export(app_client, tenant, "scans", filt={"code_id": codes[0]["id"]})
    rows = p.csv_rows(p.fetch_url(job["url"]))
    assert [(r["code_id"], r["bot"], r["wechat"]) for r in rows] == [
        (codes[0]["id"], "false", "true"), (codes[0]["id"], "false", "true"),
        (codes[0]["id"], "true", "false")]
    assert rows[2]["bot_name"] == "googlebot" and rows[0]["target_id"] == codes[0]["targets"][0]["id"]
    assert all(datetime.fromisoformat(r["at"]).utcoffset() == timedelta(hours=8) for r in rows)
    assert rows[0]["at"] <= rows[1]["at"] <= rows[2]["at"]
    people = p.run_export(app_client, tenant, "scans", "jsonl", {"bots": False})
    got = p.jsonl_rows(p.fetch_url(people["url"]))
    assert sorted(r["code_id"] for r in got) == sorted([codes[0]["id"]] * 2 + [codes[1]["id"]])
    later = (datetime.now(timezone.utc) + timedelta(minutes=5)).isoformat()
    assert p.run_export(app_client, tenant, "scans", filt={"from": later})["rows"] == 0
