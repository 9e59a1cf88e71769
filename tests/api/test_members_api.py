"""Members: invite by link, accept, password rules, roles and the owner rules, removal, lists;
API keys with a role; the admin API's owner invite."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import auth_headers
from tests.support.api import assert_error, body
from tests.support.team import bearer, login, member_session, ok, post

JSON = {"Content-Type": "application/json"}
ADMIN = {"Authorization": "Bearer test-admin-key", "Content-Type": "application/json"}


def _email(tag: str = "m") -> str:
    from chalicelib.ids import new_id

    return f"{tag}-{new_id(8)}@example.com"


@pytest.fixture
def owner(tenant):
    return member_session(tenant["tenant_id"], "owner")


def test_invite_accept_and_log_in(app_client, tenant, owner):
    email = _email()
    invited = ok(post(app_client, "/v1/members", {"email": email.upper(), "name": "小鱼",
                                                  "role": "operator"}, bearer(owner)), 201)
    member = invited["member"]
    assert member["status"] == "invited" and member["email"] == email and member["role"] == "operator"
    token = invited["invite_token"]
    assert invited["invite_url"].endswith(token) and invited["invite_url"].startswith("http")
    expires = datetime.fromisoformat(invited["invite_expires_at"]) - datetime.now(timezone.utc)
    assert timedelta(days=6, hours=23) < expires <= timedelta(days=7)
    assert_error(login(app_client, email, "long enough password"), 401)  # not accepted yet
    session = ok(post(app_client, f"/v1/invites/{token}/accept", {"password": "long enough password"},
                      JSON), 201)
    assert session["member"]["id"] == member["id"] and session["member"]["name"] == "小鱼"
    assert ok(app_client.http.get("/v1/me", headers=bearer(session)))["role"] == "operator"
    assert login(app_client, email, "long enough password").status_code == 201
    again = post(app_client, f"/v1/invites/{token}/accept", {"password": "another password!"}, JSON)
    assert_error(again, 404, "invite-not-found")  # a link works once
    listed = ok(app_client.http.get(f"/v1/members/{member['id']}", headers=bearer(owner)))
    assert listed["status"] == "active"


def test_only_the_invite_hash_is_stored(app_client, tenant, owner):
    from chalicelib.members.models import Member

    invited = ok(post(app_client, "/v1/members", {"email": _email(), "role": "analyst"},
                      bearer(owner)), 201)
    stored = Member.get(tenant["tenant_id"], invited["member"]["id"])
    secret = invited["invite_token"].split(".", 3)[3]
    assert secret not in json.dumps(stored.to_simple_dict(), default=str)
    listed = app_client.http.get("/v1/members", headers=bearer(owner)).body.decode()
    assert secret not in listed


@pytest.mark.parametrize("password,message", [
    ("short", "at least 10"), ("1234567890", "too easy"), ("aaaaaaaaaaaa", "too easy"),
    (12345678901, "must be a string"), ("x" * 300, "at most")])
def test_password_rules(app_client, tenant, owner, password, message):
    invited = ok(post(app_client, "/v1/members", {"email": _email(), "role": "analyst"},
                      bearer(owner)), 201)
    resp = post(app_client, f"/v1/invites/{invited['invite_token']}/accept", {"password": password},
                JSON)
    assert_error(resp, 400, "weak-password")
    assert body(resp)["error"]["field"] == "password" and message in body(resp)["error"]["message"]


def test_password_must_not_be_the_email(app_client, tenant, owner):
    email = _email("longlocalpart")
    invited = ok(post(app_client, "/v1/members", {"email": email, "role": "analyst"}, bearer(owner)), 201)
    resp = post(app_client, f"/v1/invites/{invited['invite_token']}/accept", {"password": email}, JSON)
    assert_error(resp, 400, "weak-password")


def test_expired_and_unknown_invites(app_client, tenant, owner):
    from chalicelib.members.models import Member

    invited = ok(post(app_client, "/v1/members", {"email": _email(), "role": "analyst"},
                      bearer(owner)), 201)
    stored = Member.get(tenant["tenant_id"], invited["member"]["id"])
    stored.update(actions=[Member.invite_expires_at.set(datetime.now(timezone.utc) - timedelta(seconds=1))])
    resp = post(app_client, f"/v1/invites/{invited['invite_token']}/accept",
                {"password": "long enough password"}, JSON)
    assert_error(resp, 410, "invite-expired")
    fresh = ok(post(app_client, f"/v1/members/{invited['member']['id']}/invite", {}, bearer(owner)), 201)
    assert fresh["invite_token"] != invited["invite_token"]
    old = post(app_client, f"/v1/invites/{invited['invite_token']}/accept",
               {"password": "long enough password"}, JSON)
    assert_error(old, 404, "invite-not-found")  # the new link replaces the old one
    assert post(app_client, f"/v1/invites/{fresh['invite_token']}/accept",
                {"password": "long enough password"}, JSON).status_code == 201
    for token in ("nonsense", f"yti1.{tenant['tenant_id']}.abcdefghij.secret"):
        assert_error(post(app_client, f"/v1/invites/{token}/accept",
                          {"password": "long enough password"}, JSON), 404, "invite-not-found")


def test_invite_input_errors(app_client, tenant, owner):
    email = _email()
    ok(post(app_client, "/v1/members", {"email": email, "role": "analyst"}, bearer(owner)), 201)
    dup = post(app_client, "/v1/members", {"email": email.upper(), "role": "admin"}, bearer(owner))
    assert_error(dup, 409, "member-exists")
    assert body(dup)["error"]["field"] == "email"
    for payload, field in (({"role": "admin"}, "email"), ({"email": "nope", "role": "admin"}, "email"),
                           ({"email": _email()}, "role"), ({"email": _email(), "role": "root"}, "role"),
                           ({"email": _email(), "role": "admin", "password": "x"}, "password")):
        resp = post(app_client, "/v1/members", payload, bearer(owner))
        assert_error(resp, 400)
        assert body(resp)["error"]["field"] == field, payload


def test_the_same_email_may_join_two_tenants(app_client, tenant, other_tenant, owner):
    email = _email()
    ok(post(app_client, "/v1/members", {"email": email, "role": "analyst"}, bearer(owner)), 201)
    ok(post(app_client, "/v1/members", {"email": email, "role": "analyst"},
            auth_headers(other_tenant)), 201)


def test_only_owners_grant_or_change_owner(app_client, tenant, owner):
    admin = member_session(tenant["tenant_id"], "admin")
    resp = post(app_client, "/v1/members", {"email": _email(), "role": "owner"}, bearer(admin))
    assert_error(resp, 403, "forbidden-role")
    assert "owner" in body(resp)["error"]["message"]
    operator = member_session(tenant["tenant_id"], "operator")
    path = f"/v1/members/{operator['member']['id']}"
    assert_error(app_client.http.patch(path, headers=bearer(admin), body='{"role": "owner"}'), 403,
                 "forbidden-role")
    owner_path = f"/v1/members/{owner['member']['id']}"
    for patch in ('{"role": "admin"}', '{"disabled": true}', '{"name": "x"}'):
        assert_error(app_client.http.patch(owner_path, headers=bearer(admin), body=patch), 403,
                     "forbidden-role")
    assert_error(app_client.http.delete(owner_path, headers=bearer(admin)), 403, "forbidden-role")
    # an admin manages everyone else
    assert ok(app_client.http.patch(path, headers=bearer(admin), body='{"role": "admin"}'))["role"] == "admin"
    # and an owner grants owner
    promoted = ok(app_client.http.patch(path, headers=bearer(owner), body='{"role": "owner"}'))
    assert promoted["role"] == "owner"


def test_a_tenant_keeps_an_owner(app_client, tenant, owner):
    path = f"/v1/members/{owner['member']['id']}"
    for change in ('{"role": "admin"}', '{"disabled": true}'):
        resp = app_client.http.patch(path, headers=bearer(owner), body=change)
        assert_error(resp, 409, "last-owner")
    assert_error(app_client.http.delete(path, headers=bearer(owner)), 409, "last-owner")
    second = member_session(tenant["tenant_id"], "owner")
    assert ok(app_client.http.patch(path, headers=bearer(owner), body='{"role": "admin"}'))["role"] == "admin"
    last = f"/v1/members/{second['member']['id']}"
    assert_error(app_client.http.delete(last, headers=bearer(second)), 409, "last-owner")
    from chalicelib.auth.models import Tenant

    assert Tenant.get(tenant["tenant_id"]).owner_count == 1


def test_owner_count_holds_under_concurrent_demotions(app_client, tenant, owner, monkeypatch):
    """Two owners demote each other at once: both read their target while there are two owners,
    then both write. The write's own condition lets only one through. (The writes are serialised
    here because the in-process emulator is not thread-safe; DynamoDB serialises transactions.)"""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.errors import Conflict
    from chalicelib.members import service
    from chalicelib.members.models import Member

    second = member_session(tenant["tenant_id"], "owner")
    actors = [service.Actor("member", m["member"]["id"], "owner") for m in (owner, second)]
    both_read, one_at_a_time = threading.Barrier(2, timeout=30), threading.Lock()
    write = service._write_with_owner_count

    def write_after_both_read(*args, **kwargs):
        both_read.wait()
        with one_at_a_time:
            return write(*args, **kwargs)

    monkeypatch.setattr(service, "_write_with_owner_count", write_after_both_read)

    def demote(i):
        try:
            service.update_member(tenant["tenant_id"], actors[1 - i].id, {"role": "admin"}, actors[i])
            return "ok"
        except Conflict as exc:
            return exc.code

    with ThreadPoolExecutor(2) as pool:
        results = sorted(pool.map(demote, [0, 1]))
    assert results == ["last-owner", "ok"], results
    roles = [m.role for m in Member.query(tenant["tenant_id"]) if m.status == "active"]
    assert roles.count("owner") == 1


def test_remove_a_member(app_client, tenant, owner):
    operator = member_session(tenant["tenant_id"], "operator")
    path = f"/v1/members/{operator['member']['id']}"
    assert app_client.http.delete(path, headers=bearer(owner)).status_code == 204
    assert_error(app_client.http.get(path, headers=bearer(owner)), 404, "member-not-found")
    assert_error(app_client.http.get("/v1/me", headers=bearer(operator)), 401, "session-ended")
    assert_error(login(app_client, operator["member"]["email"]), 401, "invalid-credentials")
    # the email may be invited again
    ok(post(app_client, "/v1/members", {"email": operator["member"]["email"], "role": "analyst"},
            bearer(owner)), 201)


def test_members_list_pages_with_a_cursor(app_client, tenant, owner):
    for _ in range(4):
        ok(post(app_client, "/v1/members", {"email": _email(), "role": "analyst"}, bearer(owner)), 201)
    seen, cursor = [], None
    while True:
        url = "/v1/members?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = ok(app_client.http.get(url, headers=bearer(owner)))
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 5
    assert_error(app_client.http.get("/v1/members?cursor=bad!", headers=bearer(owner)), 400,
                 "invalid-cursor")


def test_patch_member_input_errors(app_client, tenant, owner):
    path = f"/v1/members/{owner['member']['id']}"
    for patch, field in (('{"role": "god"}', "role"), ('{"disabled": "maybe"}', "disabled"),
                         ('{"email": "x@y.zz"}', "email")):
        resp = app_client.http.patch(path, headers=bearer(owner), body=patch)
        assert_error(resp, 400)
        assert body(resp)["error"]["field"] == field
    assert_error(app_client.http.patch("/v1/members/zzzzzzzzzz", headers=bearer(owner),
                                       body='{"name": "x"}'), 404, "member-not-found")
    renamed = ok(app_client.http.patch(path, headers=bearer(owner), body='{"name": "老板"}'))
    assert renamed["name"] == "老板"


def test_api_keys_with_roles(app_client, tenant):
    h = auth_headers(tenant)
    default = ok(post(app_client, "/v1/api-keys", {"label": "ci"}, h), 201)
    assert default["role"] == "admin"
    analyst = ok(post(app_client, "/v1/api-keys", {"label": "bi", "role": "analyst"}, h), 201)
    listed = {k["id"]: k for k in ok(app_client.http.get("/v1/api-keys", headers=h))["items"]}
    assert listed[analyst["id"]]["role"] == "analyst" and listed[tenant["api_key_id"]]["role"] == "owner"
    assert all("api_key" not in k and "secret_hash" not in k for k in listed.values())
    admin_key = {"Authorization": f"Bearer {default['api_key']}", "Content-Type": "application/json"}
    above = post(app_client, "/v1/api-keys", {"role": "owner"}, admin_key)
    assert_error(above, 403, "forbidden-role")
    assert body(above)["error"]["field"] == "role"
    assert ok(post(app_client, "/v1/api-keys", {"role": "admin"}, admin_key), 201)["role"] == "admin"
    admin_member = member_session(tenant["tenant_id"], "admin")
    assert_error(post(app_client, "/v1/api-keys", {"role": "owner"}, bearer(admin_member)), 403,
                 "forbidden-role")
    assert_error(post(app_client, "/v1/api-keys", {"role": "superuser"}, h), 400)


def test_a_key_stored_before_roles_acts_as_admin(app_client, tenant):
    from chalicelib.auth import service
    from chalicelib.auth.models import ApiKey

    key = service.create_api_key(tenant["tenant_id"], label="old")
    ApiKey.get(tenant["tenant_id"], key["id"]).update(actions=[ApiKey.role.remove()])
    service.clear_caches()
    headers = {"Authorization": f"Bearer {key['api_key']}", "Content-Type": "application/json"}
    assert ok(app_client.http.get("/v1/me", headers=headers))["role"] == "admin"
    assert app_client.http.get("/v1/tenant", headers=headers).status_code == 200  # admin route
    owner_only = post(app_client, "/v1/members", {"email": _email(), "role": "owner"}, headers)
    assert_error(owner_only, 403, "forbidden-role")


def test_admin_creates_a_tenant_with_an_owner_invite(app_client):
    email = _email("boss")
    created = ok(post(app_client, "/admin/v1/tenants", {"name": "新品牌", "owner_email": email}, ADMIN), 201)
    invite = created["owner"]
    assert invite["member"]["role"] == "owner" and invite["member"]["status"] == "invited"
    session = ok(post(app_client, f"/v1/invites/{invite['invite_token']}/accept",
                      {"password": "the boss's password"}, JSON), 201)
    assert session["tenant"]["name"] == "新品牌" and session["member"]["role"] == "owner"
    # the new owner can grant owner, and is protected as the last owner
    path = f"/v1/members/{invite['member']['id']}"
    assert_error(app_client.http.patch(path, headers=bearer(session), body='{"role": "admin"}'), 409,
                 "last-owner")
    bad = post(app_client, "/admin/v1/tenants", {"name": "x", "owner_email": "nope"}, ADMIN)
    assert_error(bad, 400)
    assert body(bad)["error"]["field"] == "owner_email"


def test_password_reset_link_for_an_active_member(app_client, tenant, owner):
    operator = member_session(tenant["tenant_id"], "operator")
    email = operator["member"]["email"]
    reset = ok(post(app_client, f"/v1/members/{operator['member']['id']}/invite", {}, bearer(owner)), 201)
    assert reset["member"]["status"] == "active"
    assert login(app_client, email).status_code == 201  # the old password works until it is used
    session = ok(post(app_client, f"/v1/invites/{reset['invite_token']}/accept",
                      {"password": "reset and renewed"}, JSON), 201)
    assert session["member"]["role"] == "operator"
    assert_error(app_client.http.get("/v1/me", headers=bearer(operator)), 401, "session-ended")
    assert app_client.http.get("/v1/me", headers=bearer(session)).status_code == 200
    assert_error(login(app_client, email), 401)
    assert login(app_client, email, "reset and renewed").status_code == 201
    admin = member_session(tenant["tenant_id"], "admin")
    assert_error(post(app_client, f"/v1/members/{owner['member']['id']}/invite", {}, bearer(admin)),
                 403, "forbidden-role")  # an admin cannot take over an owner's account


def test_a_role_change_applies_to_open_sessions_at_once(app_client, tenant, owner):
    admin = member_session(tenant["tenant_id"], "admin")
    assert app_client.http.get("/v1/tenant", headers=bearer(admin)).status_code == 200  # cached
    path = f"/v1/members/{admin['member']['id']}"
    assert ok(app_client.http.patch(path, headers=bearer(owner), body='{"role": "analyst"}'))["role"] == "analyst"
    assert_error(app_client.http.get("/v1/tenant", headers=bearer(admin)), 403, "forbidden-role")
    assert ok(app_client.http.get("/v1/me", headers=bearer(admin)))["role"] == "analyst"
