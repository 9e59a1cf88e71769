"""Tenants, API keys, tenant isolation and the error contract, through chalice.test.Client."""
import json

import pytest

from tests.conftest import auth_headers
from tests.support.api import assert_error, body

ADMIN = {"Authorization": "Bearer test-admin-key", "Content-Type": "application/json"}




def test_admin_creates_tenant_and_key_works(app_client):
    resp = app_client.http.post("/admin/v1/tenants", headers=ADMIN, body=json.dumps({"name": "鱼塘"}))
    assert resp.status_code == 201
    created = body(resp)
    assert created["api_key"].startswith("yt_" + created["tenant_id"])
    me = app_client.http.get("/v1/tenant", headers=auth_headers(created))
    assert body(me)["name"] == "鱼塘"


def test_only_the_hash_of_a_key_is_stored(app_client, tenant):
    from chalicelib.auth.models import ApiKey

    stored = list(ApiKey.query(tenant["tenant_id"]))
    secret = tenant["api_key"].split("_", 3)[3]
    assert len(stored) == 1 and secret not in json.dumps(stored[0].to_simple_dict())


@pytest.mark.parametrize("headers,code", [
    ({}, "invalid-admin-key"), ({"Authorization": "Bearer wrong"}, "invalid-admin-key"),
    ({"Authorization": "test-admin-key"}, "invalid-admin-key"),
])
def test_admin_key_required(app_client, headers, code):
    resp = app_client.http.post("/admin/v1/tenants", headers=headers, body='{"name":"x"}')
    assert_error(resp, 401, code)


@pytest.mark.parametrize("payload", ["", "{", "[]", '{"name": ""}', '{"name": 5}',
                                     '{"name": "x", "extra": 1}', '{"name": "x", "timezone": "Mars/Base"}'])
def test_admin_bad_input(app_client, payload):
    resp = app_client.http.post("/admin/v1/tenants", headers=ADMIN, body=payload)
    assert_error(resp, 400)


@pytest.mark.parametrize("auth", [None, "Bearer ", "Bearer yt_nope", "Basic abc",
                                  "Bearer yt_abcdefgh_abcdefgh_wrongsecret"])
def test_marketer_endpoints_need_a_valid_key(app_client, tenant, auth):
    headers = {"Authorization": auth} if auth else {}
    resp = app_client.http.get("/v1/livecodes", headers=headers)
    assert_error(resp, 401, "invalid-api-key")
    assert resp.headers.get("WWW-Authenticate") == "Bearer"


def test_wrong_secret_for_a_real_key_id_is_refused(app_client, tenant):
    forged = tenant["api_key"][:-4] + "AAAA"
    resp = app_client.http.get("/v1/livecodes", headers={"Authorization": f"Bearer {forged}"})
    assert_error(resp, 401, "invalid-api-key")


def test_key_rotation(app_client, tenant):
    h = auth_headers(tenant)
    new = body(app_client.http.post("/v1/api-keys", headers=h, body='{"label": "ci"}'))
    assert new["api_key"] != tenant["api_key"]
    listed = body(app_client.http.get("/v1/api-keys", headers=h))["items"]
    assert {k["id"] for k in listed} == {tenant["api_key_id"], new["id"]}
    assert all("api_key" not in k for k in listed)
    resp = app_client.http.delete(f"/v1/api-keys/{tenant['api_key_id']}",
                                  headers={"Authorization": f"Bearer {new['api_key']}"})
    assert resp.status_code == 204
    from chalicelib.auth import service
    service.clear_caches()  # a revoked key stops working within the cache lifetime (60 s)
    assert_error(app_client.http.get("/v1/livecodes", headers=h), 401)
    last = app_client.http.delete(f"/v1/api-keys/{new['id']}",
                                  headers={"Authorization": f"Bearer {new['api_key']}"})
    assert_error(last, 403, "last-api-key")


def test_revoke_in_the_same_container_is_immediate(app_client, tenant):
    h = auth_headers(tenant)
    new = body(app_client.http.post("/v1/api-keys", headers=h, body="{}"))
    app_client.http.delete(f"/v1/api-keys/{new['id']}", headers=h)
    resp = app_client.http.get("/v1/livecodes", headers={"Authorization": f"Bearer {new['api_key']}"})
    assert_error(resp, 401)


def test_tenant_cannot_revoke_anothers_key(app_client, tenant, other_tenant):
    resp = app_client.http.delete(f"/v1/api-keys/{other_tenant['api_key_id']}",
                                  headers=auth_headers(tenant))
    assert_error(resp, 404, "api-key-not-found")
    ok = app_client.http.get("/v1/tenant", headers=auth_headers(other_tenant))
    assert ok.status_code == 200


def test_tenant_settings_patch(app_client, tenant):
    h = auth_headers(tenant)
    before = body(app_client.http.get("/v1/tenant", headers=h))
    after = body(app_client.http.patch("/v1/tenant", headers=h, body=json.dumps(
        {"webhook_url": "https://hooks.example.com/x", "rotate_webhook_secret": True})))
    assert after["webhook_url"] == "https://hooks.example.com/x"
    assert after["webhook_secret"] != before["webhook_secret"]
    assert_error(app_client.http.patch("/v1/tenant", headers=h, body='{"webhook_url": "ftp://x"}'), 400)
    cleared = body(app_client.http.patch("/v1/tenant", headers=h, body='{"webhook_url": null}'))
    assert cleared["webhook_url"] is None


def test_method_not_allowed_has_the_error_shape(app_client, tenant):
    resp = app_client.http.put("/v1/livecodes", headers=auth_headers(tenant), body="{}")
    assert_error(resp, 405, "method-not-allowed")


def test_unsupported_media_type_has_the_error_shape(app_client, tenant):
    headers = {**auth_headers(tenant), "Content-Type": "application/xml"}
    resp = app_client.http.post("/v1/livecodes", headers=headers, body="<x/>")
    assert_error(resp, 415, "unsupported-media-type")


def test_public_endpoints_are_rate_limited_per_ip(app_client, tenant, monkeypatch):
    from chalicelib import web
    from chalicelib.settings import reset_settings

    monkeypatch.setenv("YUTANG_RATE_IP_PER_MINUTE", "20")
    reset_settings()
    web.reset_guard()
    try:
        statuses = [app_client.http.get("/s/zzzzzzzzzzzzzzzz", headers={"Accept": "application/json"}).status_code
                    for _ in range(12)]
        assert statuses[0] == 404 and statuses[-1] == 429
        limited = app_client.http.get("/s/zzzzzzzzzzzzzzzz", headers={"Accept": "application/json"})
        assert_error(limited, 429, "rate-limited")
        assert int(limited.headers["Retry-After"]) >= 1
        assert app_client.http.get("/v1/tenant", headers=auth_headers(tenant)).status_code == 200
    finally:
        monkeypatch.undo()
        reset_settings()
        web.reset_guard()


def test_every_request_is_logged_as_json_without_secrets(app_client, tenant, caplog):
    import logging

    from chalicelib.observability import JsonFormatter

    caplog.set_level(logging.INFO, logger="yutang")
    app_client.http.get("/v1/contents?tags=oSECRET1234", headers=auth_headers(tenant))
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.getMessage() == "request"]
    assert lines, "no request log line"
    entry = lines[-1]
    assert entry["route"] == "/v1/contents" and entry["status"] == 200
    assert entry["tenant"] == tenant["tenant_id"] and "ms" in entry
    assert tenant["api_key"] not in json.dumps(lines) and "oSECRET1234" not in json.dumps(lines)
