"""The mini-program API end to end: login via the fake WeChat, content, behaviour, profile, scans."""
import json

import pytest

from devstack.fake_wechat import DEFAULT_APPID
from tests.conftest import auth_headers
from tests.support.api import assert_error, body
from tests.support.images import png_b64
from tests.support.wechat import fake_wechat  # noqa: F401


def login(client, tenant, code="alice"):
    resp = client.http.post("/mp/v1/login", headers={"Content-Type": "application/json"},
                            body=json.dumps({"tenant": tenant["tenant_id"], "code": code}))
    assert resp.status_code == 200, resp.body
    return body(resp)


def mp(token):
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def add_content(client, tenant, tags, **extra):
    payload = {"type": "text", "title": "t", "body": "b", "tags": tags, **extra}
    resp = client.http.post("/v1/contents", headers=auth_headers(tenant), body=json.dumps(payload))
    assert resp.status_code == 201, resp.body
    return body(resp)["id"]


def test_login_creates_then_finds_the_user(fake_wechat, app_client, tenant):  # noqa: F811
    first = login(app_client, tenant, "alice:1")
    again = login(app_client, tenant, "alice:2")
    assert first["created"] and not again["created"] and first["user_id"] == again["user_id"]
    assert first["token"].startswith("mp1.")
    sent = fake_wechat.requests[0]
    assert sent["appid"] == DEFAULT_APPID and sent["js_code"] == "alice:1"
    assert sent["grant_type"] == "authorization_code"
    user = body(app_client.http.get(f"/v1/users/{first['user_id']}", headers=auth_headers(tenant)))
    assert set(user["identities"]) == {"openid", "unionid"}


@pytest.mark.parametrize("code,status,err", [
    ("invalid-x", 401, "invalid-code"), ("ratelimit-x", 429, "wechat-rate-limited"),
    ("busy-x", 503, "wechat-unavailable")])
def test_login_maps_wechat_errors(fake_wechat, app_client, tenant, code, status, err):  # noqa: F811
    resp = app_client.http.post("/mp/v1/login", headers={"Content-Type": "application/json"},
                                body=json.dumps({"tenant": tenant["tenant_id"], "code": code}))
    assert_error(resp, status, err)


def test_a_code_works_once(fake_wechat, app_client, tenant):  # noqa: F811
    login(app_client, tenant, "bob:1")
    resp = app_client.http.post("/mp/v1/login", headers={"Content-Type": "application/json"},
                                body=json.dumps({"tenant": tenant["tenant_id"], "code": "bob:1"}))
    assert_error(resp, 401, "invalid-code")


@pytest.mark.parametrize("payload,status", [
    ("", 400), ("[]", 400), ('{"tenant": "abcdefgh"}', 400), ('{"code": "x"}', 400),
    ('{"tenant": "zzzzzzzz", "code": "x"}', 404), ('{"tenant": "abcdefgh", "code": "a b"}', 400),
    ('{"tenant": "abcdefgh", "code": "x", "more": 1}', 400)])
def test_login_bad_input(fake_wechat, app_client, payload, status):  # noqa: F811
    resp = app_client.http.post("/mp/v1/login", headers={"Content-Type": "application/json"},
                                body=payload)
    assert_error(resp, status)
    assert fake_wechat.requests == []


def test_tenant_app_settings_are_used(fake_wechat, app_client, tenant):  # noqa: F811
    h = auth_headers(tenant)
    assert body(app_client.http.get("/v1/mp/settings", headers=h))["source"] == "default"
    fake_wechat.apps["wx0123456789abcdef"] = "tenant-secret-1"
    resp = app_client.http.put("/v1/mp/settings", headers=h, body=json.dumps(
        {"appid": "wx0123456789abcdef", "secret": "tenant-secret-1"}))
    assert body(resp) == {"appid": "wx0123456789abcdef", "configured": True, "source": "tenant"}
    login(app_client, tenant, "carol")
    assert fake_wechat.requests[-1]["appid"] == "wx0123456789abcdef"
    assert "secret" not in body(app_client.http.get("/v1/mp/settings", headers=h))
    resp = app_client.http.put("/v1/mp/settings", headers=h, body='{"appid": "nope", "secret": "x"}')
    assert_error(resp, 400)


def test_mp_routes_need_a_valid_token(fake_wechat, app_client, tenant):  # noqa: F811
    token = login(app_client, tenant)["token"]
    forged = token.rsplit(".", 1)[0] + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    other_user = token.replace(token.split(".")[2], "zzzzzzzzzzzz")
    for headers in ({}, mp("garbage"), mp(forged), mp(other_user), auth_headers(tenant)):
        resp = app_client.http.get("/mp/v1/me", headers=headers)
        assert_error(resp, 401)
    assert app_client.http.get("/mp/v1/me", headers=mp(token)).status_code == 200


def test_expired_token_is_refused(fake_wechat, app_client, tenant):  # noqa: F811
    from chalicelib.mp import tokens

    token, _ = tokens.issue(tenant["tenant_id"], login(app_client, tenant)["user_id"], now=0)
    assert_error(app_client.http.get("/mp/v1/me", headers=mp(token)), 401, "mp-token-expired")


def test_behaviour_changes_tags_and_stage(fake_wechat, app_client, tenant):  # noqa: F811
    session = login(app_client, tenant)
    h = mp(session["token"])
    skincare = add_content(app_client, tenant, ["skincare", "new"])
    add_content(app_client, tenant, ["bags"])
    listed = body(app_client.http.get("/mp/v1/contents?tags=skincare", headers=h))
    assert [i["id"] for i in listed["items"]] == [skincare]
    me = body(app_client.http.get("/mp/v1/me", headers=h))
    assert me["stage"] == "new" and me["tags"] == []
    for kind in ("view", "click", "favorite"):
        resp = app_client.http.post(f"/mp/v1/contents/{skincare}/events", headers=h,
                                    body=json.dumps({"type": kind}))
        assert resp.status_code == 202, resp.body
    me = body(app_client.http.get("/mp/v1/me", headers=h))
    assert me["tags"] == ["new", "skincare"]
    assert me["tag_details"]["skincare"] == {"sources": ["interest"], "weight": 4}
    item = body(app_client.http.get(f"/v1/contents/{skincare}", headers=auth_headers(tenant)))
    assert item["counters"] == {"views": 1, "clicks": 1, "favorites": 1, "shares": 0}
    resp = app_client.http.post("/v1/events", headers=auth_headers(tenant), body=json.dumps(
        {"user_id": session["user_id"], "type": "order_paid", "properties": {"amount": 99}}))
    assert resp.status_code == 202
    assert body(app_client.http.get("/mp/v1/me", headers=h))["stage"] == "paying"
    users = body(app_client.http.get("/v1/users?tags=skincare&stage=paying",
                                     headers=auth_headers(tenant)))
    assert [u["id"] for u in users["items"]] == [session["user_id"]]


def test_event_bad_input(fake_wechat, app_client, tenant, other_tenant):  # noqa: F811
    h = mp(login(app_client, tenant)["token"])
    item = add_content(app_client, tenant, ["a"])
    theirs = add_content(app_client, other_tenant, ["a"])
    for path, payload, status in ((item, '{"type": "like"}', 400), (item, "{}", 400),
                                  (item, "nope", 400), ("2" * 14, '{"type": "view"}', 404),
                                  (theirs, '{"type": "view"}', 404)):
        resp = app_client.http.post(f"/mp/v1/contents/{path}/events", headers=h, body=payload)
        assert_error(resp, status)
    assert_error(app_client.http.get(f"/mp/v1/contents/{theirs}", headers=h), 404)
    assert body(app_client.http.get("/mp/v1/contents?tags=a", headers=h))["items"][0]["id"] == item
    assert body(app_client.http.get(f"/v1/contents/{theirs}",
                                    headers=auth_headers(other_tenant)))["counters"]["views"] == 0


def test_a_known_users_scan_tags_them_with_the_channel(fake_wechat, app_client, tenant):  # noqa: F811
    import app as app_module
    from devstack.drain import drain_all

    session = login(app_client, tenant)
    code = body(app_client.http.post("/v1/livecodes", headers=auth_headers(tenant), body=json.dumps({
        "name": "c", "channel": "Offline Poster", "strategy": "fill",
        "targets": [{"kind": "group", "name": "g", "image": png_b64()}]})))
    resp = app_client.http.get(f"/s/{code['slug']}", headers={
        "Accept": "application/json", "Authorization": f"Bearer {session['token']}"})
    assert resp.status_code == 200
    anonymous = app_client.http.get(f"/s/{code['slug']}", headers={"Accept": "application/json"})
    assert anonymous.status_code == 200
    drain_all(app_module)
    user = body(app_client.http.get(f"/v1/users/{session['user_id']}", headers=auth_headers(tenant)))
    assert user["tags"] == ["channel:offline-poster"]
    assert user["tag_details"]["channel:offline-poster"]["sources"] == ["channel"]
    events = body(app_client.http.get(f"/v1/users/{session['user_id']}/events",
                                      headers=auth_headers(tenant)))["items"]
    assert [e["type"] for e in events] == ["scanned_code"]
    assert events[0]["properties"]["code_id"] == code["id"]


def test_a_known_users_scan_adds_the_codes_auto_tags(fake_wechat, app_client, tenant, other_tenant):  # noqa: F811
    import app as app_module
    from devstack.drain import drain_all

    session = login(app_client, tenant)
    theirs = login(app_client, other_tenant, "bob")
    code = body(app_client.http.post("/v1/livecodes", headers=auth_headers(tenant), body=json.dumps({
        "name": "c", "channel": "moments", "tags": ["VIP", "双11"],
        "targets": [{"kind": "group", "name": "g", "image": png_b64()}]})))
    for token in (session["token"], theirs["token"]):
        resp = app_client.http.get(f"/s/{code['slug']}", headers={
            "Accept": "application/json", "Authorization": f"Bearer {token}"})
        assert resp.status_code == 200
    drain_all(app_module)
    user = body(app_client.http.get(f"/v1/users/{session['user_id']}", headers=auth_headers(tenant)))
    assert user["tags"] == ["channel:moments", "vip", "双11"]
    assert user["tag_details"]["vip"]["sources"] == ["channel"]
    listed = body(app_client.http.get("/v1/users?tags=vip", headers=auth_headers(tenant)))
    assert [u["id"] for u in listed["items"]] == [session["user_id"]]
    # another tenant's user scanning this tenant's code is not tagged anywhere
    other = body(app_client.http.get(f"/v1/users/{theirs['user_id']}", headers=auth_headers(other_tenant)))
    assert other["tags"] == []
