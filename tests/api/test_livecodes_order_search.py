"""Reordering a live code's saved targets (PUT .../targets/order) and searching the list (?q=)."""
import json
from urllib.parse import quote

import pytest

import app as app_module
from devstack.drain import drain_all
from tests.conftest import auth_headers
from tests.support.api import assert_error, body
from tests.support.team import bearer, member_session


def make_code(client, tenant, name="码", names=("a", "b", "c"), **extra):
    payload = {"name": name, "channel": "ch", "strategy": "fill", "targets": [
        {"kind": "url", "name": n, "url": f"https://example.com/{n}"} for n in names], **extra}
    resp = client.http.post("/v1/livecodes", headers=auth_headers(tenant), body=json.dumps(payload))
    assert resp.status_code == 201, resp.body
    return body(resp)


def put_order(client, tenant, code_id, payload, headers=None):
    return client.http.put(f"/v1/livecodes/{code_id}/targets/order",
                           headers=headers or auth_headers(tenant), body=json.dumps(payload))


def scan_name(client, slug):
    resp = client.http.get(f"/s/{slug}", headers={"Accept": "application/json",
                                                  "User-Agent": "Mozilla/5.0 MicroMessenger/8.0"})
    return body(resp)["target"]["name"]


def names(code):
    return [t["name"] for t in code["targets"]]


# ---- reorder ----------------------------------------------------------------------------------

def test_reorder_sets_the_order_fill_routes_in_and_keeps_counters(app_client, tenant):
    code = make_code(app_client, tenant)
    assert scan_name(app_client, code["slug"]) == "a"  # fill: the first target takes the scan
    a, b, c = (t["id"] for t in code["targets"])
    resp = put_order(app_client, tenant, code["id"], {"target_ids": [c, a, b]})
    assert resp.status_code == 200, resp.body
    assert names(body(resp)) == ["c", "a", "b"]
    drain_all(app_module)  # a target without capacity is counted by the consumer, per batch
    stored = body(app_client.http.get(f"/v1/livecodes/{code['id']}", headers=auth_headers(tenant)))
    assert names(stored) == ["c", "a", "b"]
    assert [t["assigned"] for t in stored["targets"]] == [0, 1, 0]
    assert scan_name(app_client, code["slug"]) == "c"


@pytest.mark.parametrize("make_payload,code,field", [
    (lambda ids: {"target_ids": ids[:2]}, "target-order-mismatch", "target_ids"),  # one missing
    (lambda ids: {"target_ids": [*ids, "zzzzzzzz"]}, "target-order-mismatch", "target_ids"),
    (lambda ids: {"target_ids": [ids[0], ids[0], ids[1]]}, "target-order-mismatch", "target_ids"),
    (lambda ids: {"target_ids": [ids[0], ids[1], "zzzzzzzz"]}, "target-order-mismatch", "target_ids"),
    (lambda ids: {"target_ids": []}, "target-order-mismatch", "target_ids"),
    (lambda ids: {"target_ids": ",".join(ids)}, "validation-error", "target_ids"),
    (lambda ids: {"target_ids": [1, 2, 3]}, "validation-error", "target_ids"),
    (lambda ids: {}, "validation-error", "target_ids"),
    (lambda ids: {"target_ids": ids, "extra": 1}, "validation-error", "extra"),
    (lambda ids: ids, "invalid-json", None),
])
def test_reorder_takes_only_a_permutation_of_the_current_ids(app_client, tenant, make_payload, code,
                                                             field):
    created = make_code(app_client, tenant)
    ids = [t["id"] for t in created["targets"]]
    resp = put_order(app_client, tenant, created["id"], make_payload(list(reversed(ids))))
    assert_error(resp, 400, code)
    assert body(resp)["error"].get("field") == field
    stored = body(app_client.http.get(f"/v1/livecodes/{created['id']}", headers=auth_headers(tenant)))
    assert [t["id"] for t in stored["targets"]] == ids


def test_a_mismatch_names_what_is_missing_and_unknown(app_client, tenant):
    created = make_code(app_client, tenant)
    a, b, c = (t["id"] for t in created["targets"])
    resp = put_order(app_client, tenant, created["id"], {"target_ids": [a, b, "zzzzzzzz"]})
    message = body(resp)["error"]["message"]
    assert f"missing: {c}" in message and "unknown: zzzzzzzz" in message


def test_reorder_is_tenant_scoped(app_client, tenant, other_tenant):
    theirs = make_code(app_client, other_tenant)
    ids = [t["id"] for t in theirs["targets"]]
    resp = put_order(app_client, tenant, theirs["id"], {"target_ids": list(reversed(ids))})
    assert_error(resp, 404, "livecode-not-found")
    assert_error(put_order(app_client, tenant, "zzzzzzzz", {"target_ids": []}), 404,
                 "livecode-not-found")
    stored = body(app_client.http.get(f"/v1/livecodes/{theirs['id']}",
                                      headers=auth_headers(other_tenant)))
    assert [t["id"] for t in stored["targets"]] == ids


def test_an_analyst_cannot_reorder_an_operator_can(app_client, tenant):
    created = make_code(app_client, tenant)
    ids = [t["id"] for t in created["targets"]]
    analyst = bearer(member_session(tenant["tenant_id"], "analyst"))
    assert_error(put_order(app_client, tenant, created["id"], {"target_ids": ids[::-1]}, analyst),
                 403, "forbidden-role")
    operator = bearer(member_session(tenant["tenant_id"], "operator"))
    resp = put_order(app_client, tenant, created["id"], {"target_ids": ids[::-1]}, operator)
    assert resp.status_code == 200 and names(body(resp)) == ["c", "b", "a"]


def test_a_scan_between_read_and_write_is_not_lost(app_client, tenant, monkeypatch):
    """The list is written whole; a claim that lands after the read makes the write retry."""
    from chalicelib.livecodes import loading, service, targets

    created = make_code(app_client, tenant)
    stale = loading.load(tenant["tenant_id"], created["id"])
    service.scan(created["slug"], service.Visitor(user_agent="Mozilla/5.0"))  # a +1 after the read
    reads = iter([stale])
    monkeypatch.setattr(targets, "load", lambda t, c: next(reads, None) or loading.load(t, c))
    ids = [t["id"] for t in created["targets"]]
    answer = service.reorder_targets(tenant["tenant_id"], created["id"], {"target_ids": ids[::-1]})
    assert names(answer) == ["c", "b", "a"]
    drain_all(app_module)  # a target without capacity is counted by the consumer, per batch
    answer = service.get(tenant["tenant_id"], created["id"])
    assert [t["assigned"] for t in answer["targets"]] == [0, 0, 1]


# ---- search -----------------------------------------------------------------------------------

def list_all(client, tenant, query="", limit=2):
    seen, cursor, pages = [], None, 0
    while True:
        url = f"/v1/livecodes?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        resp = client.http.get(url, headers=auth_headers(tenant))
        assert resp.status_code == 200, resp.body
        page = body(resp)
        assert len(page["items"]) <= limit
        seen += [c["id"] for c in page["items"]]
        cursor, pages = page["next_cursor"], pages + 1
        if not cursor:
            return seen, pages


def test_search_finds_a_code_that_lists_on_page_3(app_client, tenant):
    for i in range(7):
        make_code(app_client, tenant, name=f"code {i}", names=("a",))
    order, _ = list_all(app_client, tenant)
    needle = order[5]  # page 3 at two a page
    app_client.http.patch(f"/v1/livecodes/{needle}", headers=auth_headers(tenant),
                          body=json.dumps({"name": "双11 Needle 群"}))
    page = body(app_client.http.get("/v1/livecodes?limit=2&q=needle", headers=auth_headers(tenant)))
    assert [c["id"] for c in page["items"]] == [needle]
    assert page["items"][0]["name"] == "双11 Needle 群"


def test_search_matches_name_or_title_case_insensitively(app_client, tenant):
    by_name = make_code(app_client, tenant, name="Spring SALE", names=("a",))["id"]
    by_title = make_code(app_client, tenant, name="internal", title="spring sale 福利", names=("a",))["id"]
    make_code(app_client, tenant, name="autumn", title="other", names=("a",))
    found, _ = list_all(app_client, tenant, "&q=" + quote("Sale"))
    assert sorted(found) == sorted([by_name, by_title])
    found, _ = list_all(app_client, tenant, "&q=" + quote("福利"))
    assert found == [by_title]
    assert list_all(app_client, tenant, "&q=nothing-like-it") == ([], 1)


def test_search_pages_walk_every_match_once(app_client, tenant):
    matching = {make_code(app_client, tenant, name=f"match {i}", names=("a",))["id"] for i in range(5)}
    for i in range(5):
        make_code(app_client, tenant, name=f"other {i}", names=("a",))
    found, pages = list_all(app_client, tenant, "&q=MATCH")
    assert sorted(found) == sorted(matching) and len(found) == 5
    assert pages >= 3


def test_a_search_page_ends_at_the_read_budget_and_goes_on(app_client, tenant, monkeypatch):
    from chalicelib.livecodes import codes

    monkeypatch.setattr(codes, "SEARCH_READ_BUDGET", 3)
    ids = [make_code(app_client, tenant, name=f"plain {i}", names=("a",))["id"] for i in range(7)]
    order, _ = list_all(app_client, tenant)
    last = order[-1]
    app_client.http.patch(f"/v1/livecodes/{last}", headers=auth_headers(tenant),
                          body=json.dumps({"name": "the one"}))
    first = body(app_client.http.get("/v1/livecodes?limit=5&q=one", headers=auth_headers(tenant)))
    assert first["items"] == [] and first["next_cursor"] == order[2]
    found, pages = list_all(app_client, tenant, "&q=one", limit=5)
    assert found == [last] and pages == 3 and len(ids) == 7


def test_an_empty_q_lists_everything_and_bad_q_or_cursor_is_a_400(app_client, tenant):
    ids = {make_code(app_client, tenant, name=f"c{i}", names=("a",))["id"] for i in range(3)}
    found, _ = list_all(app_client, tenant, "&q=")
    assert set(found) == ids
    h = auth_headers(tenant)
    assert_error(app_client.http.get("/v1/livecodes?q=" + "x" * 101, headers=h), 400)
    assert_error(app_client.http.get("/v1/livecodes?q=a&cursor=bad", headers=h), 400, "invalid-cursor")
    assert_error(app_client.http.get("/v1/livecodes?q=a&zz=1", headers=h), 400, "unknown-parameter")


def test_search_stays_in_the_tenant(app_client, tenant, other_tenant):
    make_code(app_client, other_tenant, name="shared word", names=("a",))
    mine = make_code(app_client, tenant, name="shared word", names=("a",))["id"]
    assert list_all(app_client, tenant, "&q=shared")[0] == [mine]
