"""Journeys HTTP API: CRUD with validation errors naming the step, versions, status changes,
stats and a person's journeys — and tenant isolation — driven through the app, events through the
events consumer and the tick through the scheduler."""
import json

import pytest

import app as app_module
from chalicelib import scheduler
from chalicelib.audience import users as audience
from chalicelib.ids import new_id
from devstack.drain import drain_once
from tests.conftest import auth_headers

STEPS = [{"id": "s1", "type": "send", "message": {"text": "欢迎"}, "next": "t1"},
         {"id": "t1", "type": "tag", "add": ["welcomed"], "next": "x"},
         {"id": "x", "type": "exit"}]
BODY = {"name": "欢迎", "entry": {"event": "order_paid"}, "reentry": {"mode": "never"},
        "steps": STEPS}


def call(client, method, path, tenant, body=None):
    h = auth_headers(tenant)
    fn = getattr(client.http, method)
    resp = fn(path, headers=h, body=json.dumps(body)) if body is not None else fn(path, headers=h)
    return resp.status_code, (json.loads(resp.body) if resp.body else None)


@pytest.fixture
def created(app_client, tenant):
    status, body = call(app_client, "post", "/v1/journeys", tenant, BODY)
    assert status == 201, body
    return body


def test_create_get_list_patch_versions(app_client, tenant, created):
    jid = created["id"]
    assert created["version"] == 1 and created["status"] == "active"
    status, got = call(app_client, "get", f"/v1/journeys/{jid}", tenant)
    assert status == 200 and [s["id"] for s in got["steps"]] == ["s1", "t1", "x"]
    status, listed = call(app_client, "get", "/v1/journeys", tenant)
    assert [j["id"] for j in listed["items"]] == [jid] and listed["next_cursor"] is None
    status, renamed = call(app_client, "patch", f"/v1/journeys/{jid}", tenant, {"name": "新"})
    assert status == 200 and renamed["version"] == 1 and renamed["name"] == "新"
    status, changed = call(app_client, "patch", f"/v1/journeys/{jid}", tenant,
                           {"goal": {"event": "order_paid"}})
    assert status == 200 and changed["version"] == 2 and changed["goal"] == {"event": "order_paid"}


@pytest.mark.parametrize("steps, code, step", [
    ([{"id": "a", "type": "fly", "next": "x"}, {"id": "x", "type": "exit"}],
     "journey-unknown-step-type", "a"),
    ([{"id": "a", "type": "exit"}, {"id": "b", "type": "exit"}], "journey-unreachable-step", "b"),
    ([{"id": "a", "type": "tag", "add": ["t"], "next": "a"}, {"id": "x", "type": "exit"}],
     "journey-unreachable-step", "x"),
])
def test_bad_graphs_are_400s_naming_the_step(app_client, tenant, steps, code, step):
    status, body = call(app_client, "post", "/v1/journeys", tenant, {**BODY, "steps": steps})
    assert status == 400
    assert body["error"]["code"] == code and body["error"]["field"] == f"steps.{step}"


def test_bad_entry_and_reentry(app_client, tenant):
    for bad, code in (({"entry": {"weather": "rain"}}, "invalid-journey-entry"),
                      ({"reentry": {"mode": "sometimes"}}, "invalid-journey-reentry"),
                      ({"entry": {"audience": {"tags_all": ["vip"]}}}, "invalid-journey-entry")):
        status, body = call(app_client, "post", "/v1/journeys", tenant, {**BODY, **bad})
        assert status == 400 and body["error"]["code"] == code, body


def test_pause_resume_archive_delete(app_client, tenant, created):
    jid = created["id"]
    assert call(app_client, "post", f"/v1/journeys/{jid}/pause", tenant)[1]["status"] == "paused"
    assert call(app_client, "post", f"/v1/journeys/{jid}/resume", tenant)[1]["status"] == "active"
    assert call(app_client, "post", f"/v1/journeys/{jid}/archive", tenant)[1]["status"] == "archived"
    status, body = call(app_client, "post", f"/v1/journeys/{jid}/resume", tenant)
    assert status == 409 and body["error"]["code"] == "journey-archived"
    assert call(app_client, "delete", f"/v1/journeys/{jid}", tenant)[0] == 204
    assert call(app_client, "get", f"/v1/journeys/{jid}", tenant)[0] == 404


def test_other_tenants_see_nothing(app_client, tenant, other_tenant, created):
    jid = created["id"]
    for method, path in (("get", f"/v1/journeys/{jid}"), ("get", f"/v1/journeys/{jid}/stats"),
                         ("post", f"/v1/journeys/{jid}/pause")):
        status, body = call(app_client, method, path, other_tenant)
        assert status == 404 and body["error"]["code"] == "journey-not-found"
    assert call(app_client, "get", "/v1/journeys", other_tenant)[1]["items"] == []


def test_an_event_through_the_queue_and_the_tick(app_client, tenant, created):
    tid = tenant["tenant_id"]
    user = audience.create_user(tid, {"brand_user_id": f"b-{new_id(8)}"})["id"]
    status, _ = call(app_client, "post", "/v1/events", tenant,
                     {"user_id": user, "type": "order_paid", "properties": {"amount": 30}})
    assert status == 202
    drain_once("yutang-events", app_module.handle_events, visibility_timeout=0)
    scheduler.run_tick()
    status, stats = call(app_client, "get", f"/v1/journeys/{created['id']}/stats", tenant)
    assert stats["entered"] == 1 and stats["exited"] == 1
    assert {s["id"]: s["executions"] for s in stats["steps"]} == {"s1": 1, "t1": 1, "x": 1}
    status, mine = call(app_client, "get", f"/v1/users/{user}/journeys", tenant)
    assert [h["step"] for h in mine["items"][0]["history"]] == ["s1", "s1", "t1", "x"]
    status, out = call(app_client, "get", f"/v1/outbox?campaign_id={created['id']}", tenant)
    assert [m["text"] for m in out["items"]] == ["欢迎"]
