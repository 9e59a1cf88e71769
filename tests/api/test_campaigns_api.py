"""Campaign HTTP API: CRUD, runs, stats, deliveries, outbox, messaging defaults, unsubscribes and
tracked links — with error shapes and tenant isolation on every endpoint."""
import json

import pytest

import app as app_module
from chalicelib.audience import users as audience
from chalicelib.ids import new_id
from chalicelib.mp import tokens
from devstack.drain import drain_once
from tests.conftest import auth_headers


def call(client, method, path, tenant, body=None, headers=None):
    h = auth_headers(tenant) if tenant else {}
    h.update(headers or {})
    data = json.dumps(body) if isinstance(body, dict) else body
    resp = getattr(client.http, method)(path, headers=h, body=data) if data is not None else \
        getattr(client.http, method)(path, headers=h)
    return resp.status_code, (json.loads(resp.body) if resp.body else None)


BODY = {"name": "周末推送", "audience": {"tags_any": ["vip", "护眼"]},
        "message": {"text": "看看 https://example.com/new"}, "schedule": {"cron": "0 10 * * 6"},
        "quiet_hours": {"start": "22:00", "end": "08:00"}, "caps": {"per_day": 1}}


@pytest.fixture
def created(app_client, tenant):
    status, body = call(app_client, "post", "/v1/campaigns", tenant, BODY)
    assert status == 201, body
    return body


def drain():
    return drain_once("yutang-sends", app_module.handle_sends, visibility_timeout=0)


def test_create_get_list_update_delete(app_client, tenant, created):
    assert created["status"] == "active" and created["timezone"] == "Asia/Shanghai"
    assert created["channel"] == "outbox" and created["next_run_at"]
    assert created["audience"]["tags_any"] == ["vip", "护眼"]
    status, got = call(app_client, "get", f"/v1/campaigns/{created['id']}", tenant)
    assert status == 200 and got == created
    status, page = call(app_client, "get", "/v1/campaigns?limit=10", tenant)
    assert status == 200 and [c["id"] for c in page["items"]] == [created["id"]]
    assert page["next_cursor"] is None
    status, patched = call(app_client, "patch", f"/v1/campaigns/{created['id']}", tenant,
                           {"name": "改名", "quiet_hours": False, "timezone": "Europe/Paris"})
    assert status == 200 and patched["name"] == "改名" and patched["quiet_hours"] is False
    assert patched["next_run_at"] != created["next_run_at"]
    status, _ = call(app_client, "delete", f"/v1/campaigns/{created['id']}", tenant)
    assert status == 204
    status, body = call(app_client, "get", f"/v1/campaigns/{created['id']}", tenant)
    assert status == 404 and body["error"]["code"] == "campaign-not-found"


def test_list_paginates_and_filters_by_status(app_client, tenant):
    ids = [call(app_client, "post", "/v1/campaigns", tenant, {**BODY, "name": f"c{i}"})[1]["id"]
           for i in range(3)]
    call(app_client, "post", f"/v1/campaigns/{ids[0]}/pause", tenant)
    seen, cursor = [], None
    while True:
        status, page = call(app_client, "get", "/v1/campaigns?limit=2" +
                            (f"&cursor={cursor}" if cursor else ""), tenant)
        assert status == 200
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids)
    status, paused = call(app_client, "get", "/v1/campaigns?status=paused", tenant)
    assert [c["id"] for c in paused["items"]] == [ids[0]]
    status, body = call(app_client, "get", "/v1/campaigns?status=sleeping", tenant)
    assert status == 400 and body["error"]["field"] == "status"
    status, body = call(app_client, "get", "/v1/campaigns?cursor=forged", tenant)
    assert status == 400 and body["error"]["code"] == "invalid-cursor"


@pytest.mark.parametrize("change, code, field", [
    ({"name": None}, "validation-error", "name"),
    ({"channel": "sms"}, "validation-error", "channel"),
    ({"schedule": {"cron": "every day"}}, "invalid-cron", "schedule.cron"),
    ({"schedule": {"at": "2001-01-01T00:00:00+08:00"}}, "schedule-in-past", "schedule.at"),
    ({"schedule": {"after_event": {"type": "joined_group", "delay_minutes": "soon"}}},
     "validation-error", "schedule.after_event.delay_minutes"),
    ({"message": {}}, "invalid-message", "message"),
    ({"message": {"content_id": "nope"}}, "content-not-found", "message.content_id"),
    ({"audience": {"stages": ["asleep"]}}, "invalid-stage", "audience.stages"),
    ({"caps": {"per_day": 0}}, "invalid-caps", "caps.per_day"),
    ({"quiet_hours": {"start": "25:00", "end": "08:00"}}, "invalid-quiet-hours", "quiet_hours.start"),
    ({"timezone": "Mars/Olympus"}, "validation-error", "timezone"),
    ({"webhook_url": "ftp://x"}, "validation-error", "webhook_url"),
    ({"colour": "red"}, "validation-error", "colour"),
])
def test_bad_bodies_get_a_clear_4xx_and_change_nothing(app_client, tenant, change, code, field):
    status, body = call(app_client, "post", "/v1/campaigns", tenant, {**BODY, **change})
    assert status == 400, body
    assert body["error"]["code"] == code and body["error"]["field"] == field
    assert call(app_client, "get", "/v1/campaigns", tenant)[1]["items"] == []


def test_bad_patch_changes_nothing(app_client, tenant, created):
    path = f"/v1/campaigns/{created['id']}"
    status, body = call(app_client, "patch", path, tenant, {"name": "x", "channel": "fax"})
    assert status == 400 and body["error"]["field"] == "channel"
    assert call(app_client, "get", path, tenant)[1] == created
    status, body = call(app_client, "patch", path, tenant, "not json")
    assert status == 400 and body["error"]["code"] == "invalid-json"


def test_channel_prerequisites(app_client, tenant):
    status, body = call(app_client, "post", "/v1/campaigns", tenant, {**BODY, "channel": "wecom"})
    assert status == 409 and body["error"]["code"] == "wecom-not-configured"
    status, body = call(app_client, "post", "/v1/campaigns", tenant, {**BODY, "channel": "webhook"})
    assert status == 400 and body["error"]["code"] == "webhook-url-required"
    status, body = call(app_client, "post", "/v1/campaigns", tenant,
                        {**BODY, "channel": "webhook", "webhook_url": "https://hooks.example.com/x"})
    assert status == 201 and body["webhook_url"] == "https://hooks.example.com/x"


def test_run_stats_deliveries_and_outbox(app_client, tenant):
    tid = tenant["tenant_id"]
    vip = [audience.create_user(tid, {"brand_user_id": new_id()}, tags=["vip"])["id"]
           for _ in range(5)]
    status, c = call(app_client, "post", "/v1/campaigns", tenant,
                     {**BODY, "schedule": None, "quiet_hours": False})
    status, body = call(app_client, "post", f"/v1/campaigns/{c['id']}/run", tenant)
    assert status == 202 and body["run_id"]
    drain()
    status, stats = call(app_client, "get", f"/v1/campaigns/{c['id']}/stats", tenant)
    assert status == 200 and (stats["audience_size"], stats["sent"], stats["pending"]) == (5, 5, 0)
    status, one = call(app_client, "get", f"/v1/campaigns/{c['id']}/stats?run_id={body['run_id']}",
                       tenant)
    assert one["sent"] == 5 and one["run_id"] == body["run_id"]
    status, err = call(app_client, "get", f"/v1/campaigns/{c['id']}/stats?run_id=nope", tenant)
    assert status == 404 and err["error"]["code"] == "run-not-found"
    seen, cursor = [], None
    while True:
        q = "?limit=2&status=sent" + (f"&cursor={cursor}" if cursor else "")
        status, page = call(app_client, "get", f"/v1/campaigns/{c['id']}/deliveries{q}", tenant)
        assert status == 200 and all(d["status"] == "sent" for d in page["items"])
        seen += [d["user_id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(vip)
    status, none = call(app_client, "get", f"/v1/campaigns/{c['id']}/deliveries?status=failed", tenant)
    assert none["items"] == []
    status, bad = call(app_client, "get", f"/v1/campaigns/{c['id']}/deliveries?status=lost", tenant)
    assert status == 400 and bad["error"]["field"] == "status"
    status, runs = call(app_client, "get", f"/v1/campaigns/{c['id']}/runs", tenant)
    assert [r["id"] for r in runs["items"]] == [body["run_id"]] and runs["items"][0]["status"] == "done"
    status, outbox = call(app_client, "get", f"/v1/outbox?campaign_id={c['id']}", tenant)
    assert status == 200 and sorted(o["user_id"] for o in outbox["items"]) == sorted(vip)
    assert all("/c/" in o["text"] for o in outbox["items"])
    status, everything = call(app_client, "get", "/v1/outbox?limit=2", tenant)
    assert len(everything["items"]) == 2 and everything["next_cursor"]
    status, bad = call(app_client, "get", "/v1/outbox?campaign_id=../x", tenant)
    assert status == 400 and bad["error"]["field"] == "campaign_id"
    # the tracked link redirects, and counts
    token = outbox["items"][0]["text"].split("/c/")[1].split()[0]
    resp = app_client.http.get(f"/c/{token}")
    assert resp.status_code == 302 and resp.headers["Location"] == "https://example.com/new"
    assert call(app_client, "get", f"/v1/campaigns/{c['id']}/stats", tenant)[1]["clicked"] == 1
    resp = app_client.http.get(f"/c/{token[:-2]}xx")
    assert resp.status_code == 404 and json.loads(resp.body)["error"]["code"] == "link-not-found"


def test_pause_resume_and_run_rules(app_client, tenant, created):
    path = f"/v1/campaigns/{created['id']}"
    status, paused = call(app_client, "post", f"{path}/pause", tenant)
    assert status == 200 and paused["status"] == "paused" and paused["next_run_at"] is None
    status, body = call(app_client, "post", f"{path}/run", tenant)
    assert status == 409 and body["error"]["code"] == "campaign-paused"
    status, resumed = call(app_client, "post", f"{path}/resume", tenant)
    assert resumed["status"] == "active" and resumed["next_run_at"] == created["next_run_at"]
    status, ev = call(app_client, "post", "/v1/campaigns", tenant,
                      {**BODY, "schedule": {"after_event": {"type": "joined_group"}}})
    status, body = call(app_client, "post", f"/v1/campaigns/{ev['id']}/run", tenant)
    assert status == 409 and body["error"]["code"] == "campaign-event-triggered"


def test_messaging_settings(app_client, tenant):
    status, cfg = call(app_client, "get", "/v1/messaging/settings", tenant)
    assert status == 200 and cfg == {"caps": {"per_day": 2, "per_week": 6}, "channel_caps": {},
                                     "quiet_hours": None}
    status, cfg = call(app_client, "patch", "/v1/messaging/settings", tenant, {
        "caps": {"per_week": 4}, "channel_caps": {"wecom": {"per_day": 1}},
        "quiet_hours": {"start": "21:30", "end": "08:00"}})
    assert status == 200 and cfg["caps"] == {"per_day": 2, "per_week": 4}
    assert cfg["channel_caps"] == {"wecom": {"per_day": 1}}
    assert cfg["quiet_hours"] == {"start": "21:30", "end": "08:00"}
    for bad, field in (({"channel_caps": {"sms": {}}}, "channel_caps"),
                       ({"caps": {"per_day": -1}}, "caps.per_day"), ({"x": 1}, "x")):
        status, body = call(app_client, "patch", "/v1/messaging/settings", tenant, bad)
        assert status == 400 and body["error"]["field"] == field
    assert call(app_client, "get", "/v1/messaging/settings", tenant)[1] == cfg


def test_mini_program_unsubscribe(app_client, tenant):
    tid = tenant["tenant_id"]
    user = audience.create_user(tid, {"openid": "o-" + new_id()})["id"]
    token, _ = tokens.issue(tid, user)
    h = {"Authorization": f"Bearer {token}"}
    assert json.loads(app_client.http.get("/mp/v1/unsubscribe", headers=h).body)["unsubscribed"] is False
    resp = app_client.http.post("/mp/v1/unsubscribe", headers=h)
    assert resp.status_code == 200 and json.loads(resp.body) == {"user_id": user, "unsubscribed": True}
    assert json.loads(app_client.http.get("/mp/v1/unsubscribe", headers=h).body)["unsubscribed"]
    resp = app_client.http.delete("/mp/v1/unsubscribe", headers=h)
    assert json.loads(resp.body)["unsubscribed"] is False
    resp = app_client.http.post("/mp/v1/unsubscribe")
    assert resp.status_code == 401 and json.loads(resp.body)["error"]["code"] == "invalid-mp-token"
    ghost, _ = tokens.issue(tid, new_id(12))
    resp = app_client.http.post("/mp/v1/unsubscribe", headers={"Authorization": f"Bearer {ghost}"})
    assert resp.status_code == 404


def test_every_campaign_endpoint_is_tenant_isolated(app_client, tenant, other_tenant, created):
    cid = created["id"]
    for method, path, body in [
        ("get", f"/v1/campaigns/{cid}", None), ("patch", f"/v1/campaigns/{cid}", {"name": "x"}),
        ("delete", f"/v1/campaigns/{cid}", None), ("post", f"/v1/campaigns/{cid}/run", None),
        ("post", f"/v1/campaigns/{cid}/pause", None), ("post", f"/v1/campaigns/{cid}/resume", None),
        ("get", f"/v1/campaigns/{cid}/runs", None), ("get", f"/v1/campaigns/{cid}/stats", None),
        ("get", f"/v1/campaigns/{cid}/deliveries", None),
    ]:
        status, resp = call(app_client, method, path, other_tenant, body)
        assert status == 404 and resp["error"]["code"] == "campaign-not-found", (method, path)
    assert call(app_client, "get", "/v1/campaigns", other_tenant)[1]["items"] == []
    assert call(app_client, "get", f"/v1/outbox?campaign_id={cid}", other_tenant)[1]["items"] == []
    call(app_client, "patch", "/v1/messaging/settings", other_tenant, {"caps": {"per_day": 9}})
    assert call(app_client, "get", "/v1/messaging/settings", tenant)[1]["caps"]["per_day"] == 2
    assert call(app_client, "get", f"/v1/campaigns/{cid}", tenant)[1] == created
    for method, path in [("get", "/v1/campaigns"), ("post", "/v1/campaigns"), ("get", "/v1/outbox"),
                         ("get", f"/v1/campaigns/{cid}/stats"), ("get", "/v1/messaging/settings")]:
        resp = getattr(app_client.http, method)(path)
        assert resp.status_code == 401, path


def test_mp_tokens_cannot_reach_marketer_endpoints(app_client, tenant):
    token, _ = tokens.issue(tenant["tenant_id"], new_id(12))
    resp = app_client.http.get("/v1/campaigns", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401
