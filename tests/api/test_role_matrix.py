"""Roles on every /v1 route, route by route.

ROLE_TABLE below is this test's own statement of who may call what, written by hand (not read from
chalicelib/members/policy.py). The first test fails when the app has a /v1 route or method the table
does not list (a new route needs a decision) or the table lists one the app lacks. Then, for every
row, a member of each role below the needed one is refused with 403 ``forbidden-role`` naming the
needed role, and a member of the needed role gets past authorization."""
from __future__ import annotations

import json

import pytest

import app as app_module
from tests.support.api import body
from tests.support.team import bearer, member_session

ROLE_TABLE = """
GET    /v1/journeys                                              analyst
POST   /v1/journeys                                              operator
GET    /v1/journeys/{journey_id}                                 analyst
PATCH  /v1/journeys/{journey_id}                                 operator
DELETE /v1/journeys/{journey_id}                                 operator
POST   /v1/journeys/{journey_id}/pause                           operator
POST   /v1/journeys/{journey_id}/resume                          operator
POST   /v1/journeys/{journey_id}/archive                         operator
GET    /v1/journeys/{journey_id}/stats                           analyst
GET    /v1/users/{user_id}/journeys                              analyst
DELETE /v1/webhook-subscriptions/{subscription_id}                admin
GET    /v1/exports                                               analyst
GET    /v1/exports/{export_id}                                   analyst
GET    /v1/imports                                               analyst
GET    /v1/imports/{import_id}                                   analyst
GET    /v1/webhook-deliveries                                    admin
GET    /v1/webhook-subscriptions                                 admin
GET    /v1/webhook-subscriptions/{subscription_id}                admin
PATCH  /v1/webhook-subscriptions/{subscription_id}                admin
POST   /v1/exports                                               operator
POST   /v1/imports                                               operator
POST   /v1/imports/{import_id}/start                             operator
POST   /v1/webhook-subscriptions                                 admin
GET    /v1/alerts                                                analyst
GET    /v1/analytics/channels                                    analyst
GET    /v1/analytics/heatmap                                     analyst
GET    /v1/analytics/overview                                    analyst
GET    /v1/contents/{content_id}/stats                           analyst
GET    /v1/livecodes/{code_id}/funnel                            analyst
GET    /v1/api-keys                                              admin
POST   /v1/api-keys                                              admin
DELETE /v1/api-keys/{key}                                        admin
GET    /v1/audience/preview                                      analyst
GET    /v1/audience/settings                                     analyst
PATCH  /v1/audience/settings                                     admin
GET    /v1/audit-log                                             admin
GET    /v1/campaigns                                             analyst
GET    /v1/coupons                                               analyst
POST   /v1/coupons                                               operator
GET    /v1/coupons/{pool_id}                                     analyst
POST   /v1/coupons/{pool_id}/codes                               operator
GET    /v1/coupons/{pool_id}/grants                              analyst
POST   /v1/coupons/redemptions                                   operator
POST   /v1/campaigns                                             operator
DELETE /v1/campaigns/{campaign_id}                               operator
GET    /v1/campaigns/{campaign_id}                               analyst
PATCH  /v1/campaigns/{campaign_id}                               operator
GET    /v1/campaigns/{campaign_id}/deliveries                    analyst
POST   /v1/campaigns/{campaign_id}/pause                         operator
POST   /v1/campaigns/{campaign_id}/resume                        operator
POST   /v1/campaigns/{campaign_id}/run                           operator
GET    /v1/campaigns/{campaign_id}/runs                          analyst
GET    /v1/campaigns/{campaign_id}/stats                         analyst
GET    /v1/contents                                              analyst
POST   /v1/contents                                              operator
DELETE /v1/contents/{content_id}                                 operator
GET    /v1/contents/{content_id}                                 analyst
PATCH  /v1/contents/{content_id}                                 operator
POST   /v1/events                                                operator
GET    /v1/fission-tasks                                         analyst
POST   /v1/fission-tasks                                         operator
DELETE /v1/fission-tasks/{task_id}                               operator
GET    /v1/fission-tasks/{task_id}                               analyst
PATCH  /v1/fission-tasks/{task_id}                               operator
GET    /v1/fission-tasks/{task_id}/leaderboard                   analyst
GET    /v1/fission-tasks/{task_id}/participants                  analyst
POST   /v1/fission-tasks/{task_id}/participants                  operator
GET    /v1/fission-tasks/{task_id}/participants/{participant_id} analyst
GET    /v1/fission-tasks/{task_id}/participants/{participant_id}/wxacode analyst
GET    /v1/fission-tasks/{task_id}/participants/{participant_id}/mp-link analyst
GET    /v1/fission-tasks/{task_id}/reward-codes                  analyst
POST   /v1/fission-tasks/{task_id}/reward-codes                  operator
GET    /v1/fission-tasks/{task_id}/rewards                       analyst
GET    /v1/fission-tasks/{task_id}/stats                         analyst
DELETE /v1/integrations/wecom                                    admin
GET    /v1/integrations/wecom                                    analyst
PUT    /v1/integrations/wecom                                    admin
GET    /v1/integrations/wecom/contacts/{external_userid}         analyst
GET    /v1/integrations/wecom/health                             analyst
GET    /v1/integrations/wecom/livecodes/{code_id}/stats          analyst
POST   /v1/invites/{token}/accept                                public
GET    /v1/livecodes                                             analyst
POST   /v1/livecodes                                             operator
DELETE /v1/livecodes/{code_id}                                   operator
GET    /v1/livecodes/{code_id}                                   analyst
PATCH  /v1/livecodes/{code_id}                                   operator
GET    /v1/livecodes/{code_id}/qr                                analyst
GET    /v1/entry-domains                                         analyst
POST   /v1/entry-domains                                         admin
PATCH  /v1/entry-domains/{domain}                                operator
DELETE /v1/entry-domains/{domain}                                admin
GET    /v1/livecodes/{code_id}/wxacode                           analyst
GET    /v1/livecodes/{code_id}/mp-link                           analyst
GET    /v1/livecodes/{code_id}/stats                             analyst
POST   /v1/livecodes/{code_id}/targets                           operator
PUT    /v1/livecodes/{code_id}/targets/order                     operator
DELETE /v1/livecodes/{code_id}/targets/{target_id}               operator
PATCH  /v1/livecodes/{code_id}/targets/{target_id}               operator
PUT    /v1/livecodes/{code_id}/audience-rules                    operator
GET    /v1/livecodes/{code_id}/experiment                        analyst
PUT    /v1/livecodes/{code_id}/experiment                        operator
DELETE /v1/livecodes/{code_id}/experiment                        operator
POST   /v1/livecodes/{code_id}/experiment/winner                 operator
GET    /v1/me                                                    analyst
PATCH  /v1/me                                                    analyst
GET    /v1/members                                               analyst
POST   /v1/members                                               admin
DELETE /v1/members/{member_id}                                   admin
GET    /v1/members/{member_id}                                   analyst
PATCH  /v1/members/{member_id}                                   admin
POST   /v1/members/{member_id}/invite                            admin
GET    /v1/messaging/settings                                    analyst
PATCH  /v1/messaging/settings                                    admin
GET    /v1/mp/settings                                           analyst
PUT    /v1/mp/settings                                           admin
GET    /v1/outbox                                                analyst
GET    /v1/poster-templates                                      analyst
POST   /v1/poster-templates                                      operator
DELETE /v1/poster-templates/{template_id}                        operator
GET    /v1/poster-templates/{template_id}                        analyst
PATCH  /v1/poster-templates/{template_id}                        operator
GET    /v1/poster-templates/{template_id}/preview                analyst
DELETE /v1/sessions                                              analyst
POST   /v1/sessions                                              public
POST   /v1/sessions/refresh                                      public
GET    /v1/tenant                                                admin
PATCH  /v1/tenant                                                admin
GET    /v1/users                                                 analyst
POST   /v1/users                                                 operator
GET    /v1/users/{user_id}                                       analyst
GET    /v1/users/{user_id}/events                                analyst
POST   /v1/users/{user_id}/tags                                  operator
DELETE /v1/users/{user_id}/tags/{tag}                            operator
"""
ROWS = [tuple(line.split()) for line in ROLE_TABLE.strip().splitlines()]
ROLES = ["analyst", "operator", "admin", "owner"]
# an analyst may log out and change their own name and password
READ_ONLY_EXCEPTIONS = {("DELETE", "/v1/sessions"), ("PATCH", "/v1/me")}
PARAM_VALUE = "zzzzzzzzzz"


def _app_routes() -> set[tuple[str, str]]:
    return {(method, path) for path, methods in app_module.app.routes.items()
            if path.startswith("/v1/") for method in methods if method != "OPTIONS"}


def test_every_v1_route_has_a_decided_role():
    table = {(method, path) for method, path, _ in ROWS}
    assert len(table) == len(ROWS), "a route is listed twice"
    undecided = sorted(_app_routes() - table)
    assert not undecided, f"new /v1 routes need a role decision (policy.py and ROLE_TABLE): {undecided}"
    assert not sorted(table - _app_routes()), "ROLE_TABLE lists routes the app does not have"


def test_an_analyst_may_change_nothing():
    for method, path, role in ROWS:
        if method not in ("GET", "HEAD") and (method, path) not in READ_ONLY_EXCEPTIONS:
            assert role != "analyst", f"{method} {path}"


def test_the_policy_module_agrees_with_the_table():
    from chalicelib.members import policy

    for method, path, role in ROWS:
        assert (policy.required_role(path, method) or "public") == role, f"{method} {path}"


def _call(client, method: str, path: str, headers: dict):
    concrete = path
    for name in ("key", "campaign_id", "content_id", "task_id", "participant_id", "external_userid",
                 "code_id", "target_id", "member_id", "template_id", "user_id", "tag", "token",
                 "export_id", "import_id", "subscription_id", "domain", "pool_id",
                 "journey_id"):
        concrete = concrete.replace("{" + name + "}", PARAM_VALUE)
    assert "{" not in concrete, f"fill the path parameters of {path}"
    payload = "{}" if method in ("POST", "PUT", "PATCH") else None
    return client.http.request(method, concrete, headers=headers, body=payload)


def _refused(resp) -> bool:
    return resp.status_code == 403 and body(resp)["error"]["code"] == "forbidden-role"


@pytest.mark.parametrize("method,path,needed", ROWS, ids=[f"{m} {p}" for m, p, _ in ROWS])
def test_route_refuses_lower_roles_and_admits_the_needed_one(app_client, tenant, method, path,
                                                             needed):
    if needed == "public":
        resp = _call(app_client, method, path, {"Content-Type": "application/json"})
        assert resp.status_code not in (401, 403), resp.body
        return
    rank = ROLES.index(needed)
    for lower in ROLES[:rank]:
        session = member_session(tenant["tenant_id"], lower)
        resp = _call(app_client, method, path, bearer(session))
        assert _refused(resp), f"{lower} was not refused {method} {path}: {resp.status_code} {resp.body}"
        assert f"needs the {needed} role" in body(resp)["error"]["message"]
    session = member_session(tenant["tenant_id"], needed)
    resp = _call(app_client, method, path, bearer(session))
    assert resp.status_code != 401 and not _refused(resp), \
        f"{needed} was refused {method} {path}: {resp.status_code} {resp.body}"


@pytest.mark.parametrize("key_role", ROLES)
def test_api_keys_carry_their_role(app_client, tenant, key_role):
    from chalicelib.auth import service

    key = service.create_api_key(tenant["tenant_id"], label=key_role, role=key_role)
    headers = {"Authorization": f"Bearer {key['api_key']}", "Content-Type": "application/json"}
    for method, path, needed in ROWS:
        if needed == "public" or (method, path) in READ_ONLY_EXCEPTIONS:
            continue
        if ROLES.index(key_role) < ROLES.index(needed):
            assert _refused(_call(app_client, method, path, headers)), f"{key_role} {method} {path}"
    me = json.loads(app_client.http.get("/v1/me", headers=headers).body)
    assert me["role"] == key_role and me["kind"] == "api_key"
