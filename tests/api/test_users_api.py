"""Users, tags, events and audience settings over HTTP: errors, identify/merge, tenancy."""
import json

import pytest

from tests.conftest import auth_headers
from tests.support.api import assert_error, body


def post(client, tenant, path, payload):
    return client.http.post(path, headers=auth_headers(tenant), body=json.dumps(payload))


def test_create_identify_and_merge(app_client, tenant):
    first = post(app_client, tenant, "/v1/users", {"identities": {"openid": "o1", "unionid": "u1"}})
    assert first.status_code == 201
    again = post(app_client, tenant, "/v1/users", {"identities": {"openid": "o1"}, "tags": ["vip"]})
    assert again.status_code == 200 and body(again)["id"] == body(first)["id"]
    second = body(post(app_client, tenant, "/v1/users", {"identities": {"brand_user_id": "b1"}}))
    merged = post(app_client, tenant, "/v1/users",
                  {"identities": {"brand_user_id": "b1", "unionid": "u1"}})
    assert body(merged)["id"] == body(first)["id"]
    assert body(merged)["merged_from"] == [second["id"]]
    found = body(app_client.http.get("/v1/users?identity=brand_user_id:b1",
                                     headers=auth_headers(tenant)))
    assert [u["id"] for u in found["items"]] == [body(first)["id"]]


def test_tags_and_listing(app_client, tenant):
    h = auth_headers(tenant)
    ids = [body(post(app_client, tenant, "/v1/users", {"tags": ["a"]}))["id"] for _ in range(5)]
    resp = post(app_client, tenant, f"/v1/users/{ids[0]}/tags", {"tags": ["B", "c"]})
    assert body(resp)["tags"] == ["a", "b", "c"]
    resp = app_client.http.delete(f"/v1/users/{ids[0]}/tags/c", headers=h)
    assert body(resp)["tags"] == ["a", "b"]
    assert_error(app_client.http.delete(f"/v1/users/{ids[0]}/tags/c", headers=h), 404, "tag-not-found")
    seen, cursor = [], None
    while True:
        page = body(app_client.http.get("/v1/users?tags=a&stage=new&limit=2"
                                        + (f"&cursor={cursor}" if cursor else ""), headers=h))
        seen += [u["id"] for u in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == sorted(ids)
    only = body(app_client.http.get("/v1/users?tags=a,b&match=all", headers=h))["items"]
    assert [u["id"] for u in only] == [ids[0]]
    assert body(app_client.http.get("/v1/users?tags=a&not=b", headers=h))["items"][0]["id"] != ids[0]


def test_events(app_client, tenant):
    uid = body(post(app_client, tenant, "/v1/users", {"identities": {"brand_user_id": "b7"}}))["id"]
    assert post(app_client, tenant, "/v1/events", {"identity": {"brand_user_id": "b7"},
                                                   "type": "joined_group"}).status_code == 202
    resp = post(app_client, tenant, "/v1/events", {"user_id": uid, "type": "order_paid",
                                                   "at": "2020-01-01T10:00:00+08:00"})
    assert resp.status_code == 202
    events = body(app_client.http.get(f"/v1/users/{uid}/events", headers=auth_headers(tenant)))
    assert [e["type"] for e in events["items"]] == ["joined_group", "order_paid"]


@pytest.mark.parametrize("payload,status", [
    ({"type": "x"}, 400), ({"user_id": "u", "identity": {"openid": "o"}, "type": "x"}, 400),
    ({"user_id": "zzzzzzzzzzzz", "type": "x"}, 404), ({"identity": {"openid": "none"}, "type": "x"}, 404),
    ({"identity": {"openid": "a", "unionid": "b"}, "type": "x"}, 400),
    ({"identity": {"wechat": "a"}, "type": "x"}, 400), ({"user_id": "U", "type": "Bad Type"}, 400),
    ({"user_id": "U", "type": "x", "at": "yesterday"}, 400),
    ({"user_id": "U", "type": "x", "at": "2999-01-01T00:00:00Z"}, 400),
    ({"user_id": "U", "type": "x", "properties": {"k": "v" * 5000}}, 400),
    ({"user_id": "U", "type": "x", "extra": 1}, 400)])
def test_event_errors(app_client, tenant, payload, status):
    uid = body(post(app_client, tenant, "/v1/users", {}))["id"]
    if payload.get("user_id") == "U":
        payload = {**payload, "user_id": uid}
    assert_error(post(app_client, tenant, "/v1/events", payload), status)
    assert body(app_client.http.get(f"/v1/users/{uid}", headers=auth_headers(tenant)))["event_count"] == 0


@pytest.mark.parametrize("path,payload", [
    ("/v1/users", {"identities": {"openid": ""}}), ("/v1/users", {"identities": {"qq": "1"}}),
    ("/v1/users", {"identities": "o1"}), ("/v1/users", {"tags": ["a,b"]}), ("/v1/users", {"x": 1}),
    ("/v1/users/{uid}/tags", {"tags": []}), ("/v1/users/{uid}/tags", {"tags": "a"}),
    ("/v1/users/{uid}/tags", {"tags": ["x" * 65]})])
def test_user_bad_input(app_client, tenant, path, payload):
    uid = body(post(app_client, tenant, "/v1/users", {}))["id"]
    assert_error(post(app_client, tenant, path.format(uid=uid), payload), 400)
    assert body(app_client.http.get(f"/v1/users/{uid}", headers=auth_headers(tenant)))["tags"] == []


@pytest.mark.parametrize("query", ["stage=sleeping", "match=x", "cursor=zz.yy", "limit=500", "q=1"])
def test_user_list_errors(app_client, tenant, query):
    assert_error(app_client.http.get(f"/v1/users?{query}", headers=auth_headers(tenant)), 400)


def test_conflicting_identity_on_create_is_a_merge_not_a_duplicate(app_client, tenant):
    a = body(post(app_client, tenant, "/v1/users", {"identities": {"openid": "x1"}}))
    b = post(app_client, tenant, "/v1/users", {"identities": {"openid": "x1"}})
    assert b.status_code == 200 and body(b)["id"] == a["id"]


def test_audience_settings(app_client, tenant):
    h = auth_headers(tenant)
    assert body(app_client.http.get("/v1/audience/settings", headers=h))["stage_thresholds"] == {
        "new_days": 7, "active_days": 7, "churn_days": 30, "paying_days": 30}
    resp = app_client.http.patch("/v1/audience/settings", headers=h,
                                 body='{"stage_thresholds": {"new_days": 3}}')
    assert body(resp)["stage_thresholds"]["new_days"] == 3
    for bad in ('{"stage_thresholds": {"new_days": 0}}', '{"stage_thresholds": {"x": 1}}',
                '{"stage_thresholds": {"active_days": 60}}', "{}"):
        assert_error(app_client.http.patch("/v1/audience/settings", headers=h, body=bad), 400)


def test_tenant_isolation(app_client, tenant, other_tenant):
    uid = body(post(app_client, tenant, "/v1/users", {"identities": {"openid": "shared"}, "tags": ["t"]}))["id"]
    theirs = auth_headers(other_tenant)
    assert_error(app_client.http.get(f"/v1/users/{uid}", headers=theirs), 404, "user-not-found")
    assert_error(app_client.http.get(f"/v1/users/{uid}/events", headers=theirs), 404)
    assert_error(post(app_client, other_tenant, f"/v1/users/{uid}/tags", {"tags": ["x"]}), 404)
    assert_error(app_client.http.delete(f"/v1/users/{uid}/tags/t", headers=theirs), 404)
    assert_error(post(app_client, other_tenant, "/v1/events", {"user_id": uid, "type": "x"}), 404)
    assert_error(post(app_client, other_tenant, "/v1/events",
                      {"identity": {"openid": "shared"}, "type": "x"}), 404)
    assert body(app_client.http.get("/v1/users?tags=t", headers=theirs))["items"] == []
    assert body(app_client.http.get("/v1/users?identity=openid:shared", headers=theirs))["items"] == []
    created = post(app_client, other_tenant, "/v1/users", {"identities": {"openid": "shared"}})
    assert created.status_code == 201 and body(created)["id"] != uid


def preview(client, tenant, audience):
    from urllib.parse import urlencode

    qs = urlencode({k: ",".join(v) for k, v in audience.items()})
    return client.http.get("/v1/audience/preview" + (f"?{qs}" if qs else ""), headers=auth_headers(tenant))


def test_audience_preview_counts_and_samples(app_client, tenant):
    vip = [body(post(app_client, tenant, "/v1/users", {"tags": ["vip"]}))["id"] for _ in range(7)]
    body(post(app_client, tenant, f"/v1/users/{vip[0]}/tags", {"tags": ["blocked"]}))
    post(app_client, tenant, "/v1/users", {"tags": ["other"]})
    resp = preview(app_client, tenant, {"tags_all": ["VIP"]})
    assert resp.status_code == 200
    got = body(resp)
    assert (got["count"], got["exact"]) == (7, True)
    assert [u["id"] for u in got["sample"]] == sorted(vip)[:5]
    assert got["audience"]["tags_all"] == ["vip"]
    got = body(preview(app_client, tenant,
                       {"tags_any": ["vip", "other"], "tags_none": ["blocked"]}))
    assert got["count"] == 7 and vip[0] not in [u["id"] for u in got["sample"]]
    assert body(preview(app_client, tenant, {}))["count"] == 8
    assert body(preview(app_client, tenant, {"stages": ["paying"]}))["count"] == 0
    resp = preview(app_client, tenant, {"tags_all": ["a"], "tags_none": ["a"]})
    assert_error(resp, 400, "invalid-audience")
    assert body(resp)["error"]["field"] == "audience.tags_none"
    resp = preview(app_client, tenant, {"stages": ["gold"]})
    assert_error(resp, 400)
    assert body(resp)["error"]["field"] == "audience.stages"
    assert_error(app_client.http.get("/v1/audience/preview?tags=a", headers=auth_headers(tenant)), 400)


def test_audience_preview_is_tenant_scoped_and_capped(app_client, tenant, other_tenant, monkeypatch):
    from chalicelib.audience import inputs

    for _ in range(4):
        post(app_client, tenant, "/v1/users", {"tags": ["t"]})
    assert body(preview(app_client, other_tenant, {"tags_all": ["t"]}))["count"] == 0
    monkeypatch.setattr(inputs, "PREVIEW_MAX", 3)
    got = body(preview(app_client, tenant, {"tags_all": ["t"]}))
    assert (got["count"], got["exact"]) == (3, False)
