"""Conformance details from issue 12: nulls in PATCH, the optional api-key body, 429 documented on
public routes, content negotiation on pages for people, 405 with Allow."""
import json

import pytest

from chalicelib.apidoc import document
from chalicelib.http import prefers_json
from tests.conftest import auth_headers
from tests.support.api import assert_error, body


@pytest.mark.parametrize("field", ["paying_days", "new_days", "active_days", "churn_days"])
def test_audience_settings_refuse_null(app_client, tenant, field):
    resp = app_client.http.patch("/v1/audience/settings", headers=auth_headers(tenant),
                                 body=json.dumps({"stage_thresholds": {field: None}}))
    assert_error(resp, 400, "validation-error")
    assert body(resp)["error"]["field"] == field


def test_api_key_body_is_optional_and_documented_so(app_client, tenant):
    h = auth_headers(tenant)
    assert app_client.http.post("/v1/api-keys", headers=h).status_code == 201
    assert app_client.http.post("/v1/api-keys", headers=h, body="{}").status_code == 201
    assert_error(app_client.http.post("/v1/api-keys", headers=h, body='{"role": "x"}'), 400)
    assert document()["paths"]["/v1/api-keys"]["post"]["requestBody"]["required"] is False


def test_429_is_documented_on_every_public_route():
    paths = document()["paths"]
    public = [p for p in paths if p.startswith(("/s/", "/m/", "/c/", "/p/", "/mp/v1/login",
                                                 "/wecom/v1/callback/"))]
    assert len(public) >= 6
    for path in public:
        for method, operation in paths[path].items():
            assert "429" in operation["responses"], (method, path)
            assert "Retry-After" in operation["responses"]["429"]["headers"]


@pytest.mark.parametrize("accept,expected", [
    ("application/json", True), ("application/json, text/plain, */*", True), ("*/*", False),
    ("", False), ("text/html,application/json;q=0.9", False), ("text/html;q=0.5, application/json", True),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
    ("application/*", True), ("application/json;q=bogus", False)])
def test_content_negotiation(accept, expected):
    assert prefers_json(accept) is expected


def test_an_unknown_code_answers_json_when_json_is_preferred(app_client):
    resp = app_client.http.get("/s/0", headers={"Accept": "application/json"})
    assert_error(resp, 404)
    assert resp.headers["Content-Type"].startswith("application/json")
    resp = app_client.http.get("/s/0", headers={"Accept": "text/html,application/json;q=0.9"})
    assert resp.status_code == 404 and resp.headers["Content-Type"].startswith("text/html")
    statuses = document()["paths"]["/s/{slug}"]["get"]["responses"]["404"]["content"]
    assert set(statuses) == {"application/json", "text/html"}


def test_an_unsupported_method_is_405_with_allow(app_client, tenant):
    resp = app_client.http.request("TRACE", "/v1/livecodes", headers=auth_headers(tenant))
    assert_error(resp, 405, "method-not-allowed")
    allow = {m.strip() for m in resp.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allow and "TRACE" not in allow
