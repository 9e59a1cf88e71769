"""The audit log: every change, logins and failed logins, recorded centrally, per tenant, newest
first, with field names and never values, filterable, and not editable."""
import json

import pytest

import app as app_module
from tests.conftest import auth_headers
from tests.support.api import assert_error
from tests.support.team import PASSWORD, bearer, login, member_session, ok, post

ADMIN = {"Authorization": "Bearer test-admin-key", "Content-Type": "application/json"}
URL_TARGET = {"kind": "url", "name": "官网", "url": "https://example.com/"}


@pytest.fixture
def owner(tenant):
    return member_session(tenant["tenant_id"], "owner")


def _log(client, headers, query=""):
    return ok(client.http.get(f"/v1/audit-log{query}", headers=headers))


def test_changes_in_several_domains_are_recorded(app_client, tenant, owner):
    h = bearer(owner)
    code = ok(post(app_client, "/v1/livecodes", {"name": "双11", "channel": "poster",
                                                  "targets": [URL_TARGET]}, h), 201)
    ok(app_client.http.patch(f"/v1/livecodes/{code['id']}", headers=h, body='{"name": "双12"}'))
    target = ok(post(app_client, f"/v1/livecodes/{code['id']}/targets", URL_TARGET, h), 201)
    content = ok(post(app_client, "/v1/contents", {"type": "text", "title": "t", "body": "b",
                                                    "tags": ["a"]}, h), 201)
    ok(app_client.http.patch(f"/v1/contents/{content['id']}", headers=h, body='{"title": "t2"}'))
    assert app_client.http.delete(f"/v1/contents/{content['id']}", headers=h).status_code == 204
    assert app_client.http.delete(f"/v1/livecodes/{code['id']}", headers=h).status_code == 204
    app_client.http.get("/v1/livecodes", headers=h)  # reads are not recorded
    items = _log(app_client, h)["items"]
    actions = [(i["action"], i["object"]["type"], i["object"]["id"], i["changed_fields"])
               for i in items]
    assert actions == [
        (f"DELETE /v1/livecodes/{code['id']}", "livecode", code["id"], []),
        (f"DELETE /v1/contents/{content['id']}", "content", content["id"], []),
        (f"PATCH /v1/contents/{content['id']}", "content", content["id"], ["title"]),
        ("POST /v1/contents", "content", content["id"], ["body", "tags", "title", "type"]),
        (f"POST /v1/livecodes/{code['id']}/targets", "target", target["id"],
         ["kind", "name", "url"]),
        (f"PATCH /v1/livecodes/{code['id']}", "livecode", code["id"], ["name"]),
        ("POST /v1/livecodes", "livecode", code["id"], ["channel", "name", "targets"]),
    ]
    first = items[-1]
    assert first["route"] == "/v1/livecodes" and first["status"] == 201
    assert first["actor"] == {"kind": "member", "id": owner["member"]["id"],
                              "email": owner["member"]["email"]}
    assert first["ip"] == "127.0.0.1" and first["at"].endswith("+00:00")
    assert items[0]["route"] == "/v1/livecodes/{code_id}"


def test_api_key_changes_name_the_key(app_client, tenant):
    h = auth_headers(tenant)
    ok(app_client.http.patch("/v1/tenant", headers={**h, "User-Agent": "curl/8"},
                             body='{"timezone": "Asia/Tokyo"}'))
    entry = _log(app_client, h)["items"][0]
    assert entry["actor"] == {"kind": "api_key", "id": tenant["api_key_id"], "label": "initial"}
    assert entry["object"] == {"type": "tenant", "id": tenant["tenant_id"]}
    assert entry["user_agent"] == "curl/8" and entry["changed_fields"] == ["timezone"]


def test_secrets_and_values_never_reach_the_log(app_client, tenant, owner):
    from chalicelib.members.models import AuditEntry

    h = bearer(owner)
    key = ok(post(app_client, "/v1/api-keys", {"label": "ci", "role": "operator"}, h), 201)
    invited = ok(post(app_client, "/v1/members", {"email": "secret-person@example.com",
                                                   "role": "analyst"}, h), 201)
    post(app_client, f"/v1/invites/{invited['invite_token']}/accept",
         {"password": "hunter2hunter2"}, {"Content-Type": "application/json"})
    app_client.http.put("/v1/integrations/wecom", headers=h, body=json.dumps(
        {"corp_id": "ww1", "secret": "TOPSECRETVALUE", "token": "tok", "encoding_aes_key": "k" * 43,
         "verify": False}))
    login(app_client, owner["member"]["email"], "wrong password given")
    raw = json.dumps([e.to_simple_dict() for e in AuditEntry.query(tenant["tenant_id"])],
                     default=str)
    for secret in (key["api_key"], invited["invite_token"], "hunter2hunter2", "TOPSECRETVALUE",
                   "wrong password given", PASSWORD, owner["token"]):
        assert secret not in raw
    wecom = [e for e in _log(app_client, h)["items"] if e["route"] == "/v1/integrations/wecom"]
    assert wecom and "secret" in wecom[0]["changed_fields"]  # the name only
    accepted = [e for e in _log(app_client, h)["items"] if e["route"] == "/v1/invites/{token}/accept"]
    assert accepted[0]["action"] == "POST /v1/invites/{token}/accept"
    assert accepted[0]["object"] == {"type": "member", "id": invited["member"]["id"]}


def test_logins_and_failed_logins_are_recorded(app_client, tenant, owner):
    email = owner["member"]["email"]
    login(app_client, email, "not my password")
    ok(login(app_client, email), 201)
    items = _log(app_client, bearer(owner), "?object_type=session")["items"]
    assert items[0]["action"] == "POST /v1/sessions" and items[0]["status"] == 201
    assert items[0]["actor"]["id"] == owner["member"]["id"] and items[0]["changed_fields"] == []
    failed = _log(app_client, bearer(owner), f"?object_type=member&object_id={owner['member']['id']}")
    assert [(e["status"], e["outcome"]) for e in failed["items"]] == [(401, "failed-login")]


def test_filters_and_pages(app_client, tenant, owner):
    h = bearer(owner)
    operator = member_session(tenant["tenant_id"], "operator")
    codes = [ok(post(app_client, "/v1/livecodes", {"name": f"c{i}", "channel": "x",
                                                    "targets": [URL_TARGET]}, bearer(operator)), 201)
             for i in range(3)]
    ok(app_client.http.patch(f"/v1/livecodes/{codes[0]['id']}", headers=h, body='{"name": "n"}'))
    mine = _log(app_client, h, f"?actor=member:{operator['member']['id']}")["items"]
    assert [e["object"]["id"] for e in mine] == [c["id"] for c in reversed(codes)]
    bare = _log(app_client, h, f"?actor={operator['member']['id']}")["items"]
    assert [e["id"] for e in bare] == [e["id"] for e in mine]
    history = _log(app_client, h, f"?object_type=livecode&object_id={codes[0]['id']}")["items"]
    assert [e["action"].split()[0] for e in history] == ["PATCH", "POST"]
    pages, cursor = [], None
    while True:
        page = _log(app_client, h, "?limit=2&object_type=livecode" + (f"&cursor={cursor}" if cursor else ""))
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    flat = [e["id"] for p in pages for e in p]
    assert len(flat) == 4 and flat == sorted(flat, reverse=True) and max(len(p) for p in pages) == 2
    latest = history[0]["at"]
    since = _log(app_client, h, "?from=" + latest.replace("+00:00", "Z"))["items"]
    assert since and all(e["at"] >= latest for e in since)
    before = _log(app_client, h, "?to=2000-01-01T00:00:00Z")["items"]
    assert before == []
    for bad in ("?cursor=nope", "?from=yesterday", "?limit=0", "?colour=red"):
        assert_error(app_client.http.get(f"/v1/audit-log{bad}", headers=h), 400)


def test_each_tenant_sees_only_its_own_log(app_client, tenant, other_tenant):
    ok(post(app_client, "/v1/livecodes", {"name": "a", "channel": "x", "targets": [URL_TARGET]},
            auth_headers(tenant)), 201)
    other = _log(app_client, auth_headers(other_tenant))["items"]
    assert all(e["action"] != "POST /v1/livecodes" for e in other)
    assert any(e["action"] == "POST /v1/livecodes" for e in _log(app_client, auth_headers(tenant))["items"])


def test_admin_tenant_creation_is_filed_under_the_new_tenant(app_client):
    created = ok(post(app_client, "/admin/v1/tenants", {"name": "新"}, ADMIN), 201)
    entry = _log(app_client, {"Authorization": f"Bearer {created['api_key']}"})["items"][0]
    assert entry["action"] == "POST /admin/v1/tenants" and entry["actor"]["kind"] == "admin"
    assert entry["object"] == {"type": "tenant", "id": created["tenant_id"]}


def test_refused_and_failed_changes_are_not_recorded_as_changes(app_client, tenant, owner):
    analyst = member_session(tenant["tenant_id"], "analyst")
    post(app_client, "/v1/livecodes", {"name": "a", "channel": "x", "targets": [URL_TARGET]},
         bearer(analyst))  # 403
    post(app_client, "/v1/livecodes", {"name": ""}, bearer(owner))  # 400
    assert _log(app_client, bearer(owner), "?object_type=livecode")["items"] == []


def test_the_log_cannot_be_edited():
    from chalicelib.members.models import AuditEntry

    routes = {p: set(m) - {"OPTIONS"} for p, m in app_module.app.routes.items() if "audit" in p}
    assert routes == {"/v1/audit-log": {"GET"}}
    assert AuditEntry._ttl_attribute() is None  # kept as long as the tenant
