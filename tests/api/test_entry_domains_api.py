"""Entry domains through the API: the tenant's list, the /e/{slug} redirect to the current domain
(one read at most, cached ≤ 1 s per container), blocking moves traffic at once, the printed QR
encodes the entry, and no request can make the entry redirect anywhere but the tenant's own list."""
import json

import pytest

from bench.common import CallCounter
from chalicelib.entry import service
from tests.conftest import auth_headers
from tests.support.api import assert_error, body
from tests.support.fission import make_livecode
from tests.support.images import decode_qr

SLUG_LEN = 16


def add(client, tenant, domain):
    return client.http.post("/v1/entry-domains", headers=auth_headers(tenant),
                            body=json.dumps({"domain": domain}))


def mark(client, tenant, domain, status):
    return client.http.patch(f"/v1/entry-domains/{domain}", headers=auth_headers(tenant),
                             body=json.dumps({"status": status}))


def enter(client, path):
    resp = client.http.get(path)
    assert resp.status_code == 302, resp.body
    assert resp.headers["Cache-Control"] == "no-store"
    return resp.headers["Location"]


def test_list_add_block_unblock_remove(app_client, tenant):
    assert body(app_client.http.get("/v1/entry-domains", headers=auth_headers(tenant))) == {
        "items": [], "next_cursor": None, "current": None}
    first = add(app_client, tenant, "Go.Example.CN")
    assert first.status_code == 201, first.body
    assert body(first)["domain"] == "go.example.cn" and body(first)["current"]
    assert add(app_client, tenant, "b.example.cn").status_code == 201
    assert_error(add(app_client, tenant, "go.example.cn"), 409, "entry-domain-exists")
    blocked = body(mark(app_client, tenant, "go.example.cn", "blocked"))
    assert blocked["status"] == "blocked" and blocked["blocked_at"] and not blocked["current"]
    listed = body(app_client.http.get("/v1/entry-domains", headers=auth_headers(tenant)))
    assert listed["current"] == "b.example.cn"
    assert [d["domain"] for d in listed["items"]] == ["go.example.cn", "b.example.cn"]
    assert body(mark(app_client, tenant, "go.example.cn", "active"))["blocked_at"] is None
    resp = app_client.http.delete("/v1/entry-domains/go.example.cn", headers=auth_headers(tenant))
    assert resp.status_code == 204
    assert_error(mark(app_client, tenant, "go.example.cn", "blocked"), 404, "entry-domain-not-found")
    assert_error(mark(app_client, tenant, "b.example.cn", "gone"), 400)
    assert_error(app_client.http.delete("/v1/entry-domains/not a domain",
                                        headers=auth_headers(tenant)), 404)


@pytest.mark.parametrize("domain", ["https://x.cn", "x.cn/s", "127.0.0.1", "a@b.cn", ""])
def test_bad_domains_are_400(app_client, tenant, domain):
    assert_error(add(app_client, tenant, domain), 400)


def test_at_most_twenty_domains(app_client, tenant):
    for i in range(20):
        assert add(app_client, tenant, f"d{i}.example.cn").status_code == 201
    assert_error(add(app_client, tenant, "d20.example.cn"), 400, "entry-domain-limit")


def test_the_entry_redirects_to_the_current_domain_and_blocking_moves_it_at_once(app_client, tenant):
    code = make_livecode(app_client, tenant)
    slug = code["slug"]
    assert code["entry_url"] == f"http://testserver/e/{slug}"
    assert enter(app_client, f"/e/{slug}") == f"http://testserver/s/{slug}"  # none listed: own host
    add(app_client, tenant, "a.example.cn")
    add(app_client, tenant, "b.example.cn")
    assert enter(app_client, f"/e/{slug}?ref=abc_1") == f"http://a.example.cn/s/{slug}?ref=abc_1"
    mark(app_client, tenant, "a.example.cn", "blocked")
    assert enter(app_client, f"/e/{slug}") == f"http://b.example.cn/s/{slug}"
    mark(app_client, tenant, "b.example.cn", "blocked")
    assert enter(app_client, f"/e/{slug}") == f"http://testserver/s/{slug}"


def test_another_containers_cache_holds_a_blocked_domain_at_most_a_second(
        app_client, tenant, monkeypatch):
    code = make_livecode(app_client, tenant)
    add(app_client, tenant, "a.example.cn")
    add(app_client, tenant, "b.example.cn")
    assert enter(app_client, f"/e/{code['slug']}").startswith("http://a.example.cn/")
    stale = dict(service._cache)
    mark(app_client, tenant, "a.example.cn", "blocked")
    service._cache.update(stale)  # what a container that did not serve the PATCH still holds
    assert enter(app_client, f"/e/{code['slug']}").startswith("http://a.example.cn/")
    later = service._cache[tenant["tenant_id"]][0] + 0.001
    monkeypatch.setattr("chalicelib.entry.service.time.monotonic", lambda: later)
    assert service.CACHE_SECONDS <= 1
    assert enter(app_client, f"/e/{code['slug']}").startswith("http://b.example.cn/")


def test_an_entry_costs_one_read_and_none_within_the_cache_second(app_client, tenant):
    code = make_livecode(app_client, tenant)
    add(app_client, tenant, "a.example.cn")
    service.clear_cache()
    app_client.http.get(f"/e/{code['slug']}")  # warm: clients, imports
    service.clear_cache()
    with CallCounter() as cold:
        enter(app_client, f"/e/{code['slug']}")
    with CallCounter() as warm:
        for _ in range(5):
            enter(app_client, f"/e/{code['slug']}")
    assert dict(cold.calls) == {"GetItem": 1}
    assert sum(warm.calls.values()) == 0


def test_no_request_chooses_the_destination(app_client, tenant, other_tenant):
    code = make_livecode(app_client, tenant)
    add(app_client, tenant, "mine.example.cn")
    add(app_client, other_tenant, "theirs.example.cn")
    slug = code["slug"]
    for path in (f"/e/{slug}?next=https://evil.com", f"/e/{slug}?url=//evil.com&redirect=evil.com",
                 f"/e/{slug}?from=timeline&isappinstalled=0"):
        assert enter(app_client, path) == f"http://mine.example.cn/s/{slug}"
    resp = app_client.http.get(f"/e/{slug}", headers={"Host": "evil.com",
                                                       "X-Forwarded-Host": "evil.com"})
    assert resp.headers["Location"] == f"http://mine.example.cn/s/{slug}"
    for bad_ref in ("https://evil.com", "a/../b", "x" * 65, "a%0d%0aLocation:%20http://evil.com"):
        assert_error(app_client.http.get(f"/e/{slug}?ref={bad_ref}",
                                         headers={"Accept": "application/json"}), 400)
    for bad in ("evil.com", "%2F%2Fevil.com", slug + "x", slug.upper(), "abcdefgh"):
        resp = app_client.http.get(f"/e/{bad}")
        assert resp.status_code == 404 and "Location" not in resp.headers
        assert resp.headers["Content-Type"].startswith("text/html")
    unknown = "zzzzzzzz" + slug[8:]  # a well-formed slug of no tenant: this deployment's own host
    assert enter(app_client, f"/e/{unknown}") == f"http://testserver/s/{unknown}"


def test_the_qr_encodes_the_entry_once_domains_are_listed(app_client, tenant):
    code = make_livecode(app_client, tenant)
    headers = {**auth_headers(tenant), "Accept": "image/png"}
    before = app_client.http.get(f"/v1/livecodes/{code['id']}/qr?size=256", headers=headers)
    assert decode_qr(before.body) == [code["scan_url"]]
    add(app_client, tenant, "a.example.cn")
    after = app_client.http.get(f"/v1/livecodes/{code['id']}/qr?size=256", headers=headers)
    assert decode_qr(after.body) == [code["entry_url"]]
    mark(app_client, tenant, "a.example.cn", "blocked")  # no reprint: the entry stays the same
    again = app_client.http.get(f"/v1/livecodes/{code['id']}/qr?size=256", headers=headers)
    assert again.body == after.body


def test_a_concurrent_change_is_applied_again_not_lost(app_client, tenant, monkeypatch):
    tid = tenant["tenant_id"]
    service.add_domain(tid, {"domain": "a.example.cn"})
    real_load, raced = service._load, []

    def load_then_race(tenant_id):
        item = real_load(tenant_id)
        if not raced:  # another request saves between this read and its write
            raced.append(True)
            service.update_domain(tid, "a.example.cn", {"status": "blocked"})
        return item

    monkeypatch.setattr(service, "_load", load_then_race)
    service.add_domain(tid, {"domain": "b.example.cn"})
    monkeypatch.setattr(service, "_load", real_load)
    listed = service.list_domains(tid)
    assert [(d["domain"], d["status"]) for d in listed["items"]] == [
        ("a.example.cn", "blocked"), ("b.example.cn", "active")]
    assert listed["current"] == "b.example.cn"
