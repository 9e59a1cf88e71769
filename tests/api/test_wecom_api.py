"""企业微信 settings and callbacks through chalice.test.Client: error shapes, secrets never returned,
signature-authenticated callbacks, tenancy."""
import json
from urllib.parse import urlencode

import pytest

from devstack.fake_wecom import contact_added
from tests.conftest import auth_headers
from tests.support.api import assert_error, body
from tests.support.wecom import (
    AES_KEY,
    CORP_ID,
    SECRET,
    TOKEN,
    callback,
    drain,
    fake_wecom,  # noqa: F401
    queued_types,
    settings_body,
)

XML = {"Content-Type": "text/xml"}
OFFICIAL_VERIFY = {"msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
                   "timestamp": "1409659589", "nonce": "263014780",
                   "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+"
                              "FZXvnaqQ=="}




@pytest.fixture
def configured(fake_wecom, app_client, tenant):  # noqa: F811
    resp = app_client.http.put("/v1/integrations/wecom", headers=auth_headers(tenant),
                               body=json.dumps(settings_body()))
    assert resp.status_code == 200, resp.body
    return tenant


def test_settings_round_trip_without_secrets(app_client, configured):
    h = auth_headers(configured)
    got = app_client.http.get("/v1/integrations/wecom", headers=h)
    view = body(got)
    assert view["configured"] is True and view["corp_id"] == CORP_ID and view["agent_id"] == 1000002
    assert view["callback_url"] == f"http://testserver/wecom/v1/callback/{configured['tenant_id']}"
    text = got.body.decode() if isinstance(got.body, bytes) else got.body
    assert all(secret not in text for secret in (SECRET, TOKEN, AES_KEY))

    from chalicelib.wecom.models import WecomIntegration

    stored = json.dumps(WecomIntegration.get(configured["tenant_id"]).to_simple_dict())
    assert SECRET not in stored and AES_KEY not in stored and f'"{TOKEN}"' not in stored
    assert app_client.http.delete("/v1/integrations/wecom", headers=h).status_code == 204
    assert body(app_client.http.get("/v1/integrations/wecom", headers=h))["configured"] is False
    assert_error(app_client.http.delete("/v1/integrations/wecom", headers=h), 404,
                 "wecom-not-configured")


@pytest.mark.parametrize("change,field", [
    ({"encoding_aes_key": AES_KEY[:-1]}, "encoding_aes_key"),
    ({"encoding_aes_key": AES_KEY[:-1] + "!"}, "encoding_aes_key"),
    ({"token": "has space"}, "token"), ({"token": "x" * 33}, "token"),
    ({"corp_id": ""}, "corp_id"), ({"corp_id": "a/b"}, "corp_id"), ({"secret": None}, "secret"),
    ({"agent_id": "abc"}, "agent_id"), ({"extra": 1}, "extra"), ({"verify": "maybe"}, "verify"),
])
def test_bad_settings_are_refused_and_store_nothing(fake_wecom, app_client, tenant, change, field):  # noqa: F811
    payload = {**settings_body(), **change}
    resp = app_client.http.put("/v1/integrations/wecom", headers=auth_headers(tenant),
                               body=json.dumps(payload))
    assert_error(resp, 400)
    assert body(resp)["error"]["field"] == field
    assert body(app_client.http.get("/v1/integrations/wecom",
                                    headers=auth_headers(tenant)))["configured"] is False
    assert fake_wecom.calls == []


def test_rejected_credentials_are_a_422(fake_wecom, app_client, tenant):  # noqa: F811
    fake_wecom.corps = {CORP_ID: "another"}
    resp = app_client.http.put("/v1/integrations/wecom", headers=auth_headers(tenant),
                               body=json.dumps(settings_body()))
    assert_error(resp, 422, "wecom-credentials-rejected")


def test_settings_need_an_api_key(app_client, tenant):
    assert_error(app_client.http.get("/v1/integrations/wecom"), 401)


def test_url_verification_with_the_official_vector(app_client, configured):
    url = f"/wecom/v1/callback/{configured['tenant_id']}?{urlencode(OFFICIAL_VERIFY)}"
    resp = app_client.http.get(url)
    assert resp.status_code == 200 and resp.body == b"1616140317555161061"


@pytest.mark.parametrize("change,status,code", [
    ({"msg_signature": "0" * 40}, 403, "invalid-signature"),
    ({"timestamp": "1409659590"}, 403, "invalid-signature"),
    ({"echostr": None}, 400, "validation-error"),
])
def test_url_verification_failures(app_client, configured, change, status, code):
    params = {k: v for k, v in {**OFFICIAL_VERIFY, **change}.items() if v is not None}
    resp = app_client.http.get(f"/wecom/v1/callback/{configured['tenant_id']}?{urlencode(params)}")
    assert_error(resp, status, code)


def test_unknown_or_unconfigured_tenants_are_404(app_client, tenant):
    for tenant_id in (tenant["tenant_id"], "nosuchtt", "NOT-AN-ID"):
        resp = app_client.http.get(f"/wecom/v1/callback/{tenant_id}?{urlencode(OFFICIAL_VERIFY)}")
        assert_error(resp, 404, "wecom-not-configured")


def _post(app_client, tenant_id, signed, **query_changes):
    params = {**signed.query, **query_changes}
    return app_client.http.post(f"/wecom/v1/callback/{tenant_id}?{urlencode(params)}", headers=XML,
                                body=signed.body)


def test_callback_is_enqueued_and_answered_success(app_client, configured):
    signed = callback(contact_added(CORP_ID, "zhangsan", "wmAPI1", state=None))
    resp = _post(app_client, configured["tenant_id"], signed)
    assert resp.status_code == 200 and resp.body == b"success"
    assert queued_types() == ["wecom_callback"]
    assert drain() == 2  # the callback, then the audience's user_event
    contact = app_client.http.get("/v1/integrations/wecom/contacts/wmAPI1",
                                  headers=auth_headers(configured))
    assert body(contact)["staff"] == ["zhangsan"]


@pytest.mark.parametrize("content_type", ["application/xml", "text/xml; charset=utf-8"])
def test_callback_content_types(app_client, configured, content_type):
    signed = callback(contact_added(CORP_ID, "zhangsan", "wmAPI2"))
    resp = app_client.http.post(
        f"/wecom/v1/callback/{configured['tenant_id']}?{urlencode(signed.query)}",
        headers={"Content-Type": content_type}, body=signed.body)
    assert resp.status_code == 200


@pytest.mark.parametrize("case", ["signature", "nonce", "other_key", "other_corp", "not_xml",
                                  "no_encrypt", "missing_query"])
def test_bad_callbacks_are_refused_without_side_effects(app_client, configured, case):
    fields = contact_added(CORP_ID, "zhangsan", "wmBAD")
    signed = callback(fields)
    tid = configured["tenant_id"]
    if case == "signature":
        resp = _post(app_client, tid, signed, msg_signature="f" * 40)
    elif case == "nonce":
        resp = _post(app_client, tid, signed, nonce="other")
    elif case == "other_key":  # signed with our token but encrypted with another key
        resp = _post(app_client, tid, callback(fields, aes_key="A" * 43))
    elif case == "other_corp":
        resp = _post(app_client, tid, callback(fields, corp_id="wwanothercorp"))
    elif case == "not_xml":
        resp = app_client.http.post(f"/wecom/v1/callback/{tid}?{urlencode(signed.query)}",
                                    headers=XML, body="hello")
    elif case == "no_encrypt":
        resp = app_client.http.post(f"/wecom/v1/callback/{tid}?{urlencode(signed.query)}",
                                    headers=XML, body="<xml><A>1</A></xml>")
    else:
        resp = app_client.http.post(f"/wecom/v1/callback/{tid}", headers=XML, body=signed.body)
    assert 400 <= resp.status_code < 500
    assert body(resp)["error"]["code"]
    assert queued_types() == []
    assert_error(app_client.http.get("/v1/integrations/wecom/contacts/wmBAD",
                                     headers=auth_headers(configured)), 404)


def test_another_tenants_signature_does_not_pass(app_client, configured, other_tenant):
    other_token = "OtherToken1"
    app_client.http.put("/v1/integrations/wecom", headers=auth_headers(other_tenant),
                        body=json.dumps(settings_body(token=other_token)))
    signed = callback(contact_added(CORP_ID, "zhangsan", "wmT"), token=other_token)
    assert _post(app_client, other_tenant["tenant_id"], signed).status_code == 200
    assert_error(_post(app_client, configured["tenant_id"], signed), 403, "invalid-signature")


def test_contacts_and_stats_are_per_tenant(app_client, configured, other_tenant, fake_wecom):  # noqa: F811
    h = auth_headers(configured)
    code = body(app_client.http.post("/v1/livecodes", headers=h, body=json.dumps({
        "name": "x", "channel": "ch", "targets": [
            {"kind": "staff", "name": "s", "wecom_user_ids": ["zhangsan"]}]})))
    assert code["targets"][0]["wecom"]["way"] == "contact"
    state = code["targets"][0]["wecom"]["state"]
    _post(app_client, configured["tenant_id"], callback(contact_added(CORP_ID, "zhangsan", "wmP", state)))
    drain()
    stats = app_client.http.get(f"/v1/integrations/wecom/livecodes/{code['id']}/stats", headers=h)
    assert body(stats)["adds"] == 1
    contact = body(app_client.http.get("/v1/integrations/wecom/contacts/wmP", headers=h))
    assert contact["tags"] == ["channel:ch", f"livecode:{code['id']}"]
    oh = auth_headers(other_tenant)
    assert_error(app_client.http.get("/v1/integrations/wecom/contacts/wmP", headers=oh), 404)
    assert_error(app_client.http.get(f"/v1/integrations/wecom/livecodes/{code['id']}/stats",
                                     headers=oh), 404)


def test_wecom_target_errors_through_the_api(fake_wecom, app_client, tenant):  # noqa: F811
    h = auth_headers(tenant)
    payload = {"name": "x", "channel": "c", "targets": [
        {"kind": "staff", "name": "s", "wecom_user_ids": ["zhangsan"]}]}
    assert_error(app_client.http.post("/v1/livecodes", headers=h, body=json.dumps(payload)), 409,
                 "wecom-not-configured")
    app_client.http.put("/v1/integrations/wecom", headers=h, body=json.dumps(settings_body()))
    fake_wecom.users = {"someone"}
    assert_error(app_client.http.post("/v1/livecodes", headers=h, body=json.dumps(payload)), 422,
                 "wecom-rejected")
    payload["targets"][0]["wecom_user_ids"] = "zhangsan"
    assert_error(app_client.http.post("/v1/livecodes", headers=h, body=json.dumps(payload)), 400)
    assert body(app_client.http.get("/v1/livecodes", headers=h))["items"] == []


def test_stats_bad_range(app_client, configured):
    h = auth_headers(configured)
    code = body(app_client.http.post("/v1/livecodes", headers=h, body=json.dumps(
        {"name": "x", "channel": "c", "targets": []})))
    resp = app_client.http.get(f"/v1/integrations/wecom/livecodes/{code['id']}/stats?from=2024-02-01"
                               "&to=2024-01-01", headers=h)
    assert_error(resp, 400)


def test_failing_callbacks_are_throttled_per_tenant_and_ip(app_client, configured, monkeypatch):
    """Each refused callback costs a read and an unseal: after 10 failures a minute from one IP
    for one tenant, that IP is answered 429 for that tenant before anything is read."""
    from chalicelib import web
    from chalicelib.wecom import integration

    web.reset_guard()
    loads = []
    real = integration.load
    monkeypatch.setattr(integration, "load", lambda *a, **k: (loads.append(1), real(*a, **k))[1])
    tid = configured["tenant_id"]
    bad = {**OFFICIAL_VERIFY, "msg_signature": "0" * 40}
    statuses = [app_client.http.get(f"/wecom/v1/callback/{tid}?{urlencode(bad)}").status_code
                for _ in range(14)]
    assert statuses[:10] == [400] * 10 or set(statuses[:10]) <= {400, 403}
    assert statuses[10:] == [429] * 4
    assert len(loads) == 10  # the throttled ones cost nothing
    resp = app_client.http.get(f"/wecom/v1/callback/{tid}?{urlencode(bad)}")
    assert_error(resp, 429, "rate-limited")
    assert int(resp.headers["Retry-After"]) >= 1
    web.reset_guard()


def test_health_token_and_last_callback(app_client, tenant, fake_wecom, monkeypatch):  # noqa: F811
    from chalicelib.wecom import client, integration

    h = auth_headers(tenant)
    got = body(app_client.http.get("/v1/integrations/wecom/health", headers=h))
    assert got == {"configured": False, "token": {"status": "none", "expires_at": None},
                   "last_callback_at": None}
    assert app_client.http.put("/v1/integrations/wecom", headers=h,
                               body=json.dumps(settings_body(verify=False))).status_code == 200
    got = body(app_client.http.get("/v1/integrations/wecom/health", headers=h))
    assert got["configured"] and got["token"]["status"] == "none" and got["last_callback_at"] is None

    client.access_token(integration.load(tenant["tenant_id"]))  # fetched on first use, as a contact-way call does
    got = body(app_client.http.get("/v1/integrations/wecom/health", headers=h))
    assert got["token"]["status"] == "valid" and got["token"]["expires_at"]

    integration._touched.clear()
    signed = callback(contact_added(CORP_ID, "zhangsan", "wmHealth1", state=None))
    assert _post(app_client, tenant["tenant_id"], signed).status_code == 200
    drain()
    first = body(app_client.http.get("/v1/integrations/wecom/health", headers=h))["last_callback_at"]
    assert first
    # a second callback within the minute writes nothing more (one UpdateItem a minute)
    writes = []
    monkeypatch.setattr(integration.WecomIntegration, "update",
                        lambda self, **kw: writes.append(kw))
    integration.touch_callback(tenant["tenant_id"])
    assert writes == []
    # new credentials make the cached token unusable for them
    monkeypatch.undo()
    assert app_client.http.put("/v1/integrations/wecom", headers=h, body=json.dumps(
        settings_body(secret="another-secret", verify=False))).status_code == 200
    assert body(app_client.http.get("/v1/integrations/wecom/health",
                                    headers=h))["token"]["status"] == "none"
