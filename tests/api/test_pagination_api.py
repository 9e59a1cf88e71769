"""Cursors of plain tenant lists (chalicelib.pagination.by_tenant; here /v1/livecodes): opaque,
signed, bound to the tenant and the list."""
import base64
import json

from tests.conftest import auth_headers


def _get(client, tenant, query):
    resp = client.http.get(f"/v1/livecodes{query}", headers=auth_headers(tenant))
    return resp.status_code, json.loads(resp.body)


def _codes(client, tenant, n):
    ids = []
    for i in range(n):
        payload = {"name": f"c{i}", "channel": "c", "targets": [
            {"kind": "url", "name": "官网", "url": "https://example.com/landing"}]}
        resp = client.http.post("/v1/livecodes", headers=auth_headers(tenant), body=json.dumps(payload))
        assert resp.status_code == 201, resp.body
        ids.append(json.loads(resp.body)["id"])
    return sorted(ids)


def _refused(status, answer):
    return status == 400 and answer["error"]["code"] == "invalid-cursor"


def test_a_list_cursor_pages_on_and_is_opaque(app_client, tenant):
    ids = _codes(app_client, tenant, 3)
    status, first = _get(app_client, tenant, "?limit=2")
    cursor = first["next_cursor"]
    assert status == 200 and cursor and not any(i in cursor for i in ids)
    status, rest = _get(app_client, tenant, f"?limit=2&cursor={cursor}")
    assert status == 200 and rest["next_cursor"] is None
    assert sorted(c["id"] for c in first["items"] + rest["items"]) == ids


def test_a_list_cursor_is_tenant_bound_and_tamper_evident(app_client, tenant, other_tenant):
    ids = _codes(app_client, tenant, 3)
    _codes(app_client, other_tenant, 3)
    cursor = _get(app_client, tenant, "?limit=1")[1]["next_cursor"]
    assert _refused(*_get(app_client, other_tenant, f"?cursor={cursor}"))
    sig = cursor.partition(".")[2]
    moved = base64.urlsafe_b64encode(json.dumps({"after": ids[1]}).encode()).decode().rstrip("=")
    assert _refused(*_get(app_client, tenant, f"?cursor={moved}.{sig}"))
    assert _refused(*_get(app_client, tenant, f"?cursor={ids[0]}"))  # a bare id is no cursor
    assert _get(app_client, tenant, f"?cursor={cursor}")[0] == 200
