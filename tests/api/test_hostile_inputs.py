"""Hostile bodies answer 4xx in the contract's shape, never 500 (issue 12, item 1): absurd nesting
and lone surrogates are refused where the body is parsed, for every route (the unauthenticated
ones too); times that overflow and crons that never fire are refused by their parsers."""
import json

import pytest

from tests.conftest import auth_headers
from tests.support.api import assert_error, body

DEEP = "[" * 1000 + "]" * 1000
NEST_65 = {"name": json.loads("[" * 64 + "]" * 64)}  # 65 levels counting the outer object


def post(client, path, payload, tenant=None):
    headers = auth_headers(tenant) if tenant else {"Content-Type": "application/json"}
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return client.http.post(path, headers=headers, body=data)


ROUTES = ["/v1/livecodes", "/v1/contents", "/v1/campaigns", "/v1/users", "/v1/events",
          "/v1/fission-tasks", "/v1/poster-templates", "/v1/api-keys"]


@pytest.mark.parametrize("path", ROUTES + ["/mp/v1/login"])
def test_absurd_nesting_is_refused_when_parsed(app_client, tenant, path):
    for payload in (DEEP, '{"a": ' + DEEP + "}", json.dumps(NEST_65)):
        resp = post(app_client, path, payload, None if path.startswith("/mp/") else tenant)
        assert_error(resp, 400, "invalid-json")
        assert "nest" in body(resp)["error"]["message"]


def test_moderate_nesting_is_still_parsed(app_client, tenant):
    resp = post(app_client, "/v1/events", {"user_id": "u_missing", "type": "custom",
                                           "properties": {"a": {"b": {"c": [[[1]]]}}}}, tenant)
    assert resp.status_code != 400 or body(resp)["error"]["code"] != "invalid-json"


SURROGATES = [
    ("/v1/livecodes", {"name": "x\ud800y", "channel": "c", "strategy": "fill",
                       "targets": [{"kind": "url", "name": "a", "url": "https://example.com"}]}),
    ("/v1/contents", {"type": "text", "title": "x\udfffy", "tags": []}),
    ("/v1/campaigns", {"name": "x\ud800", "audience": {}, "message": {"text": "hi"}}),
    ("/v1/users", {"identities": {"user": "a\ud800"}}),
    ("/v1/events", {"user_id": "u", "type": "custom", "properties": {"k\ud800": 1}}),
    ("/mp/v1/login", {"tenant": "t\ud800", "code": "c"}),
]


@pytest.mark.parametrize("path,payload", SURROGATES)
def test_lone_surrogates_are_refused_when_parsed(app_client, tenant, path, payload):
    resp = post(app_client, path, payload, None if path.startswith("/mp/") else tenant)
    assert_error(resp, 400, "invalid-json")
    assert "surrogate" in body(resp)["error"]["message"]


def test_lone_surrogate_in_fission_registration_is_400_not_404(app_client, tenant):
    from tests.support.fission import make_task

    task = make_task(app_client, tenant)
    resp = post(app_client, f"/v1/fission-tasks/{task['id']}/participants",
                {"nickname": "x\ud800y", "openid": "o-1"}, tenant)
    assert_error(resp, 400, "invalid-json")


def test_a_valid_surrogate_pair_is_text(app_client, tenant):
    resp = post(app_client, "/v1/contents", {"type": "text", "title": "鱼 \ud83d\udc1f", "body": "b", "tags": []},
                tenant)
    assert resp.status_code == 201, resp.body
    assert body(resp)["title"] == "鱼 🐟"


OVERFLOW = ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z"]


@pytest.mark.parametrize("when", OVERFLOW)
def test_times_that_overflow_are_refused(app_client, tenant, when):
    code = post(app_client, "/v1/livecodes", {
        "name": "n", "channel": "c", "strategy": "fill",
        "targets": [{"kind": "url", "name": "a", "url": "https://example.com", "expires_at": when}]},
        tenant)
    assert_error(code, 400, "validation-error")
    campaign = post(app_client, "/v1/campaigns", {"name": "n", "audience": {},
                                                  "message": {"text": "hi"}, "schedule": {"at": when}},
                    tenant)
    assert campaign.status_code == 400, campaign.body
    event = post(app_client, "/v1/events", {"user_id": "u", "type": "custom", "at": when}, tenant)
    assert_error(event, 400, "validation-error")


@pytest.mark.parametrize("cron", ["0 0 30 2 *", "0 0 31 4 *", "0 0 31 2,4,6,9,11 *"])
def test_a_cron_that_never_fires_is_invalid(app_client, tenant, cron):
    resp = post(app_client, "/v1/campaigns", {"name": "n", "audience": {}, "message": {"text": "hi"},
                                              "schedule": {"cron": cron}}, tenant)
    assert_error(resp, 400, "invalid-cron")
    assert body(resp)["error"]["field"] == "schedule.cron"


def test_a_rare_cron_that_does_fire_is_accepted(app_client, tenant):
    resp = post(app_client, "/v1/campaigns", {"name": "n", "audience": {}, "message": {"text": "hi"},
                                              "schedule": {"cron": "0 0 29 2 *"}}, tenant)
    assert resp.status_code == 201, resp.body
