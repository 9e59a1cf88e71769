"""Password login, lockout, refresh rotation and replay detection, logout, /v1/me."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import auth_headers
from tests.support.api import assert_error, body
from tests.support.team import PASSWORD, bearer, login, member_session, ok, post

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def operator(tenant):
    return member_session(tenant["tenant_id"], "operator")


@pytest.fixture
def ops(operator):
    return operator["member"]["email"]  # emails are global (login looks them up): one per test


def test_login_answers_a_session(app_client, tenant, operator, ops):
    session = ok(login(app_client, ops.upper() + " "), 201)
    assert session["token"].startswith("yts1.") and session["refresh_token"].startswith("ytr1.")
    expires = datetime.fromisoformat(session["expires_at"])
    assert timedelta(minutes=14) < expires - datetime.now(timezone.utc) <= timedelta(minutes=15)
    assert session["member"] == {"id": operator["member"]["id"], "email": ops,
                                 "name": None, "role": "operator", "tenant_id": tenant["tenant_id"]}
    assert session["tenant"] == {"id": tenant["tenant_id"], "name": "Tenant A",
                                 "timezone": "Asia/Shanghai"}
    me = ok(app_client.http.get("/v1/me", headers=bearer(session)))
    assert me["kind"] == "member" and me["role"] == "operator" and me["email"] == ops
    assert me["id"] == operator["member"]["id"] and me["tenant"]["id"] == tenant["tenant_id"]
    # the access token is a credential for the whole API, like an API key
    assert app_client.http.get("/v1/livecodes", headers=bearer(session)).status_code == 200


def test_me_for_an_api_key(app_client, tenant):
    me = ok(app_client.http.get("/v1/me", headers=auth_headers(tenant)))
    assert me["kind"] == "api_key" and me["id"] == tenant["api_key_id"]
    assert me["role"] == "owner" and me["label"] == "initial" and "email" not in me
    assert me["tenant"] == {"id": tenant["tenant_id"], "name": "Tenant A", "timezone": "Asia/Shanghai"}


def test_unknown_email_wrong_password_and_locked_account_answer_alike(app_client, ops):
    unknown = login(app_client, "nobody-" + ops)
    wrong = login(app_client, ops, "not the password")
    assert_error(unknown, 401, "invalid-credentials")
    assert (wrong.status_code, body(wrong)) == (unknown.status_code, body(unknown))
    for _ in range(3):
        login(app_client, ops, "not the password")
    locking = login(app_client, ops, "not the password")  # the fifth failure
    locked = login(app_client, ops)  # the right password, but locked
    assert (locking.status_code, body(locking)) == (unknown.status_code, body(unknown))
    assert (locked.status_code, body(locked)) == (unknown.status_code, body(unknown))


def test_lockout_after_five_failures_for_fifteen_minutes(app_client, tenant, operator, ops):
    from chalicelib.members.models import Member

    for _ in range(4):
        assert_error(login(app_client, ops, "wrong password!"), 401)
    assert login(app_client, ops).status_code == 201  # success resets the count
    for _ in range(5):
        login(app_client, ops, "wrong password!")
    assert_error(login(app_client, ops), 401, "invalid-credentials")
    member = Member.get(tenant["tenant_id"], operator["member"]["id"])
    left = member.locked_until - datetime.now(timezone.utc)
    assert timedelta(minutes=14) < left <= timedelta(minutes=15)
    member.update(actions=[Member.locked_until.set(datetime.now(timezone.utc) - timedelta(seconds=1))])
    assert login(app_client, ops).status_code == 201  # the lock has run out


def test_logins_are_throttled_per_ip(app_client, ops, monkeypatch):
    from chalicelib.members import sessions
    from chalicelib.settings import reset_settings

    monkeypatch.setenv("YUTANG_LOGIN_IP_PER_MINUTE", "3")
    reset_settings()
    sessions.clear_cache()
    try:
        statuses = [login(app_client, f"x{i}@example.com").status_code for i in range(5)]
        assert statuses[:3] == [401, 401, 401] and statuses[3:] == [429, 429]
        assert_error(login(app_client, ops), 429, "rate-limited")
    finally:
        monkeypatch.undo()
        reset_settings()
        sessions.clear_cache()


def test_bad_login_input(app_client, tenant):
    for payload, field in (({"password": "x"}, "email"), ({"email": "a@b.co"}, "password"),
                           ({"email": "not-an-email", "password": "x"}, "email"),
                           ({"email": "a@b.co", "password": "x", "admin": True}, "admin")):
        resp = app_client.http.post("/v1/sessions", headers=JSON, body=json.dumps(payload))
        assert_error(resp, 400)
        assert body(resp)["error"]["field"] == field


def test_refresh_rotates_and_a_replayed_token_revokes_the_session(app_client, tenant, operator, ops):
    first = ok(login(app_client, ops), 201)
    second = ok(post(app_client, "/v1/sessions/refresh", {"refresh_token": first["refresh_token"]},
                     JSON), 201)
    assert second["refresh_token"] != first["refresh_token"]
    assert second["member"]["id"] == operator["member"]["id"]
    assert second["session_id"] == first["session_id"]
    third = ok(post(app_client, "/v1/sessions/refresh", {"refresh_token": second["refresh_token"]},
                    JSON), 201)
    assert app_client.http.get("/v1/me", headers=bearer(third)).status_code == 200
    # someone replays the first (already used) refresh token: the whole session ends
    replay = post(app_client, "/v1/sessions/refresh", {"refresh_token": first["refresh_token"]}, JSON)
    assert_error(replay, 401, "refresh-token-reused")
    assert_error(app_client.http.get("/v1/me", headers=bearer(third)), 401, "session-ended")
    again = post(app_client, "/v1/sessions/refresh", {"refresh_token": third["refresh_token"]}, JSON)
    assert_error(again, 401, "session-ended")
    # other sessions of the same member are untouched
    assert app_client.http.get("/v1/me", headers=bearer(operator)).status_code == 200


def test_forged_refresh_tokens_are_refused(app_client, tenant, operator, ops):
    token = operator["refresh_token"]
    parts = token.split(".")
    bumped = ".".join(parts[:4] + [str(int(parts[4]) + 1)] + parts[5:])
    for forged in ("", "ytr1.x", token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), bumped):
        resp = post(app_client, "/v1/sessions/refresh", {"refresh_token": forged}, JSON)
        assert resp.status_code in (400, 401), forged
    # a forged token did not revoke anything
    assert post(app_client, "/v1/sessions/refresh", {"refresh_token": token}, JSON).status_code == 201


def test_logout_stops_the_access_token_at_once(app_client, tenant, operator, ops):
    session = ok(login(app_client, ops), 201)
    headers = bearer(session)
    assert app_client.http.get("/v1/me", headers=headers).status_code == 200  # now cached
    assert app_client.http.delete("/v1/sessions", headers=headers).status_code == 204
    assert_error(app_client.http.get("/v1/me", headers=headers), 401, "session-ended")
    refresh = post(app_client, "/v1/sessions/refresh", {"refresh_token": session["refresh_token"]},
                   JSON)
    assert_error(refresh, 401, "session-ended")
    assert app_client.http.get("/v1/me", headers=bearer(operator)).status_code == 200


def test_logout_in_another_container_takes_effect_within_the_cache_time(app_client, tenant, operator, ops):
    from chalicelib.members import sessions
    from chalicelib.members.models import Session

    headers = bearer(operator)
    assert app_client.http.get("/v1/me", headers=headers).status_code == 200
    stored = next(iter(Session.query(tenant["tenant_id"])))
    stored.update(actions=[Session.revoked_at.set(datetime.now(timezone.utc))])  # elsewhere
    assert app_client.http.get("/v1/me", headers=headers).status_code == 200  # cached ≤ 5 s here
    sessions._cache.clear()  # the cache entry's 5 seconds have passed
    assert_error(app_client.http.get("/v1/me", headers=headers), 401, "session-ended")


def test_an_api_key_cannot_log_out(app_client, tenant):
    assert_error(app_client.http.delete("/v1/sessions", headers=auth_headers(tenant)), 400,
                 "not-a-session")


def test_expired_and_forged_access_tokens(app_client, tenant, operator, monkeypatch):
    import time

    from chalicelib.members import tokens

    member_id, session_id = operator["member"]["id"], operator["session_id"]
    expired = tokens.issue_access("test-secret", tenant["tenant_id"], member_id, session_id,
                                  int(time.time()) - 1)
    resp = app_client.http.get("/v1/me", headers={"Authorization": f"Bearer {expired}"})
    assert_error(resp, 401, "token-expired")
    assert resp.headers.get("WWW-Authenticate") == "Bearer"
    other_key = tokens.issue_access("another-secret", tenant["tenant_id"], member_id, session_id,
                                    int(time.time()) + 60)
    assert_error(app_client.http.get("/v1/me", headers={"Authorization": f"Bearer {other_key}"}),
                 401, "invalid-token")
    tampered = operator["token"].replace(member_id, "abcdefghij")
    assert_error(app_client.http.get("/v1/me", headers={"Authorization": f"Bearer {tampered}"}),
                 401, "invalid-token")


def test_disabling_a_member_ends_its_sessions(app_client, tenant, operator, ops):
    admin = member_session(tenant["tenant_id"], "admin")
    assert app_client.http.get("/v1/me", headers=bearer(operator)).status_code == 200
    resp = app_client.http.patch(f"/v1/members/{operator['member']['id']}", headers=bearer(admin),
                                 body='{"disabled": true}')
    assert ok(resp)["status"] == "disabled"
    assert_error(app_client.http.get("/v1/me", headers=bearer(operator)), 401, "session-ended")
    assert_error(login(app_client, ops), 401, "invalid-credentials")
    refresh = post(app_client, "/v1/sessions/refresh", {"refresh_token": operator["refresh_token"]},
                   JSON)
    assert_error(refresh, 401, "session-ended")


def test_an_email_in_several_tenants_must_choose(app_client, tenant, other_tenant):
    from chalicelib.ids import new_id

    both = f"both-{new_id(6)}@example.com"
    member_session(tenant["tenant_id"], "analyst", email=both)
    member_session(other_tenant["tenant_id"], "admin", email=both,
                   password="another long password")
    assert_error(login(app_client, both, "neither of them!"), 401,
                 "invalid-credentials")
    resp = login(app_client, both)
    assert_error(resp, 409, "tenant-required")
    assert body(resp)["error"]["tenants"] == [{"id": tenant["tenant_id"], "name": "Tenant A"}]
    chosen = ok(login(app_client, both, tenant_id=tenant["tenant_id"]), 201)
    assert chosen["member"]["role"] == "analyst" and chosen["tenant"]["id"] == tenant["tenant_id"]
    other = ok(login(app_client, both, "another long password",
                     tenant_id=other_tenant["tenant_id"]), 201)
    assert other["member"]["role"] == "admin"
    assert_error(login(app_client, both, tenant_id=other_tenant["tenant_id"]), 401,
                 "invalid-credentials")


def test_a_member_token_never_reaches_another_tenant(app_client, tenant, other_tenant):
    owner = member_session(tenant["tenant_id"], "owner")
    other_code = ok(app_client.http.post("/v1/contents", headers=auth_headers(other_tenant),
                                         body=json.dumps({"type": "text", "title": "B's",
                                                          "body": "b", "tags": []})), 201)
    assert_error(app_client.http.get(f"/v1/contents/{other_code['id']}", headers=bearer(owner)), 404)
    assert ok(app_client.http.get("/v1/contents", headers=bearer(owner)))["items"] == []
    other_members = ok(app_client.http.get("/v1/members", headers=auth_headers(other_tenant)))
    assert other_members["items"] == []
    mine = ok(app_client.http.get("/v1/members", headers=bearer(owner)))["items"]
    assert [m["id"] for m in mine] == [owner["member"]["id"]]
    resp = app_client.http.patch(f"/v1/members/{owner['member']['id']}",
                                 headers=auth_headers(other_tenant), body='{"name": "x"}')
    assert_error(resp, 404, "member-not-found")
    assert_error(app_client.http.delete(f"/v1/members/{owner['member']['id']}",
                                        headers=auth_headers(other_tenant)), 404)


def test_passwords_are_stored_as_scrypt_hashes_only(app_client, tenant, operator, ops):
    from chalicelib.members.models import Member

    stored = Member.get(tenant["tenant_id"], operator["member"]["id"])
    assert stored.password_hash.startswith("scrypt$") and PASSWORD not in json.dumps(
        stored.to_simple_dict(), default=str)


def test_a_member_changes_their_own_password(app_client, tenant, operator, ops):
    other_device = ok(login(app_client, ops), 201)
    h = bearer(operator)
    resp = app_client.http.patch("/v1/me", headers=h, body=json.dumps(
        {"password": "a brand new password", "current_password": "not it at all"}))
    assert_error(resp, 403, "wrong-password")
    assert body(resp)["error"]["field"] == "current_password"
    weak = app_client.http.patch("/v1/me", headers=h, body=json.dumps(
        {"password": "short", "current_password": PASSWORD}))
    assert_error(weak, 400, "weak-password")
    missing = app_client.http.patch("/v1/me", headers=h, body='{"password": "a brand new password"}')
    assert_error(missing, 400)
    assert body(missing)["error"]["field"] == "current_password"
    changed = ok(app_client.http.patch("/v1/me", headers=h, body=json.dumps(
        {"password": "a brand new password", "current_password": PASSWORD, "name": "阿鱼"})))
    assert changed["name"] == "阿鱼" and changed["id"] == operator["member"]["id"]
    assert app_client.http.get("/v1/me", headers=h).status_code == 200  # this session stays
    assert_error(app_client.http.get("/v1/me", headers=bearer(other_device)), 401, "session-ended")
    assert_error(login(app_client, ops), 401, "invalid-credentials")
    assert login(app_client, ops, "a brand new password").status_code == 201
    assert_error(app_client.http.patch("/v1/me", headers=auth_headers(tenant), body='{"name": "k"}'),
                 400, "not-a-session")


def test_wrong_current_passwords_count_toward_the_lockout(app_client, tenant, operator, ops):
    for _ in range(5):
        app_client.http.patch("/v1/me", headers=bearer(operator), body=json.dumps(
            {"password": "a brand new password", "current_password": "guess guess"}))
    assert_error(login(app_client, ops), 401, "invalid-credentials")  # locked


def test_behind_a_cdn_the_viewer_address_header_is_the_client(app_client, tenant, ops, monkeypatch):
    from chalicelib.members import sessions
    from chalicelib.settings import reset_settings

    monkeypatch.setenv("YUTANG_LOGIN_IP_PER_MINUTE", "2")
    monkeypatch.setenv("YUTANG_CLIENT_IP_HEADER", "CloudFront-Viewer-Address")
    reset_settings()
    sessions.clear_cache()
    try:
        def attempt(viewer):
            return app_client.http.post("/v1/sessions", body=json.dumps(
                {"email": ops, "password": "wrong password!"}), headers={
                **JSON, "CloudFront-Viewer-Address": viewer})
        assert [attempt("198.51.100.7:4431").status_code for _ in range(3)] == [401, 401, 429]
        assert attempt("[2001:db8::7]:4431").status_code == 401  # another viewer, same edge
        entry = ok(app_client.http.get("/v1/audit-log?object_type=member", headers=auth_headers(tenant)))
        assert {e["ip"] for e in entry["items"]} == {"198.51.100.7", "2001:db8::7"}
    finally:
        monkeypatch.undo()
        reset_settings()
        sessions.clear_cache()
