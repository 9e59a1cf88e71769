"""Unknown query parameters are handled the same way on every API route (issue 12): 400
``unknown-parameter`` listing the documented ones; pages opened by people accept any."""
import pytest

from tests.conftest import auth_headers
from tests.support.api import assert_error, body


@pytest.mark.parametrize("path", ["/v1/contents", "/v1/livecodes", "/v1/campaigns", "/v1/users",
                                  "/v1/fission-tasks", "/v1/poster-templates", "/v1/api-keys",
                                  "/v1/tenant", "/v1/outbox"])
def test_an_unknown_parameter_is_refused_everywhere(app_client, tenant, path):
    resp = app_client.http.get(f"{path}?zz=x", headers=auth_headers(tenant))
    assert_error(resp, 400, "unknown-parameter")
    err = body(resp)["error"]
    assert err["field"] == "zz" and "this route takes" in err["message"]


def test_documented_parameters_still_work(app_client, tenant):
    resp = app_client.http.get("/v1/livecodes?limit=5", headers=auth_headers(tenant))
    assert resp.status_code == 200, resp.body
    resp = app_client.http.get("/v1/contents?limit=5&tags=a", headers=auth_headers(tenant))
    assert resp.status_code == 200, resp.body


def test_pages_for_people_accept_any_parameter(app_client, tenant):
    import json

    resp = app_client.http.post("/v1/livecodes", headers=auth_headers(tenant), body=json.dumps({
        "name": "n", "channel": "c", "strategy": "fill",
        "targets": [{"kind": "url", "name": "a", "url": "https://example.com"}]}))
    slug = body(resp)["slug"]
    resp = app_client.http.get(f"/s/{slug}?from=timeline&isappinstalled=0")
    assert resp.status_code in (200, 302), resp.body
