"""What team accounts cost per request in AWS calls: a member's access token is checked with two
GetItems (session, member) once per container every few seconds and with none in between; a change
costs one PutItem more, its audit entry; reads write nothing."""
from bench.common import counting
from tests.support.team import bearer, member_session


def test_session_checks_are_cached_and_a_change_adds_one_audit_write(app_client, tenant):
    owner = member_session(tenant["tenant_id"], "owner")
    other = member_session(tenant["tenant_id"], "analyst")
    h = bearer(owner)
    with counting() as first:
        assert app_client.http.get("/v1/me", headers=h).status_code == 200
    assert first.calls == {"GetItem": 2}, first.calls  # session + member; the tenant is cached
    with counting() as cached:
        assert app_client.http.get("/v1/me", headers=h).status_code == 200
    assert cached.calls == {}, cached.calls
    with counting() as change:
        resp = app_client.http.patch(f"/v1/members/{other['member']['id']}", headers=h,
                                     body='{"name": "小鱼"}')
        assert resp.status_code == 200
    # read the member, the conditional write, read it back for the answer, and the audit entry
    assert change.calls == {"GetItem": 2, "TransactWriteItems": 1, "PutItem": 1}, change.calls
