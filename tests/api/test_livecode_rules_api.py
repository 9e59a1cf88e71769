"""A code's own routing rules over HTTP: audience rules for known customers, store targets with a
position or a region, and A/B experiments with their figures and an operator-confirmed winner."""
import json
import re
from datetime import datetime, timezone

import pytest

import app as app_module
from bench.common import CallCounter
from chalicelib.analytics import aggregate
from chalicelib.livecodes import cache as livecode_cache
from chalicelib.mp import tokens
from chalicelib.settings import get_settings, reset_settings
from devstack.drain import drain_once
from tests.conftest import auth_headers
from tests.support.api import assert_error, body

PHONE = "Mozilla/5.0 (iPhone) MicroMessenger/8.0.50"
SQUARE = {"lat": 31.2304, "lng": 121.4737, "radius_m": 2000, "region": "shanghai"}
WANGFUJING = {"lat": 39.9139, "lng": 116.4108, "radius_m": 5000, "region": "beijing"}


def url_target(name, **extra):
    return {"kind": "url", "name": name, "url": f"https://example.com/{name}", **extra}


def make_code(client, tenant, targets, **extra):
    resp = client.http.post("/v1/livecodes", headers=auth_headers(tenant), body=json.dumps(
        {"name": "rules", "channel": "c", "targets": targets, **extra}))
    assert resp.status_code == 201, resp.body
    return body(resp)


def ids(code):
    return {t["name"]: t["id"] for t in code["targets"]}


def scan(client, slug, headers=None, query="", method="GET", data=None):
    h = {"Accept": "application/json", "User-Agent": PHONE, **(headers or {})}
    if method == "POST":
        return client.http.post(f"/s/{slug}{query}", headers=h, body=data)
    return client.http.get(f"/s/{slug}{query}", headers=h)


def landed(resp):
    return body(resp)["target"]["name"] if resp.headers.get("Content-Type", "").startswith(
        "application/json") else resp.headers["Location"].rsplit("/", 1)[1]


def cookies(resp):
    raw = resp.headers.get("Set-Cookie", "")
    values = raw if isinstance(raw, list) else re.split(r", (?=yt_)", raw)
    return [c.split(";", 1)[0] for c in values if c]


# ---- audience ------------------------------------------------------------------------------------

def _user(client, tenant, tags):
    resp = client.http.post("/v1/users", headers=auth_headers(tenant), body=json.dumps(
        {"identities": {"openid": f"o-{'-'.join(tags) or 'none'}"}, "tags": tags}))
    assert resp.status_code == 201, resp.body
    return body(resp)["id"]


def test_known_customers_follow_audience_rules_unknown_visitors_do_not(app_client, tenant):
    code = make_code(app_client, tenant, [url_target("general"), url_target("vipdesk")])
    t = ids(code)
    resp = app_client.http.put(f"/v1/livecodes/{code['id']}/audience-rules",
                               headers=auth_headers(tenant),
                               body=json.dumps({"rules": [{"tags_any": ["VIP"],
                                                           "target_ids": [t["vipdesk"]]}]}))
    assert resp.status_code == 200 and body(resp)["rules"][0]["tags_any"] == ["vip"], resp.body
    vip, plain = _user(app_client, tenant, ["vip"]), _user(app_client, tenant, [])
    tid = tenant["tenant_id"]
    vip_token, plain_token = tokens.issue(tid, vip)[0], tokens.issue(tid, plain)[0]
    assert {landed(scan(app_client, code["slug"])) for _ in range(3)} == {"general"}
    assert landed(scan(app_client, code["slug"], {"Authorization": f"Bearer {plain_token}"})) \
        == "general"
    first = scan(app_client, code["slug"], {"Authorization": f"Bearer {vip_token}"})
    assert landed(first) == "vipdesk" and body(first)["reason"] == "assigned"
    # the identity cookie the token set makes a later plain scan from that browser known
    who = next(c for c in cookies(first) if c.startswith("yt_who="))
    assert landed(scan(app_client, code["slug"], {"Cookie": who})) == "vipdesk"
    # a returning visitor keeps their target from the visit cookie: no audience read at all
    visit = next(c for c in cookies(first) if c.startswith(f"yt_{code['id']}="))
    livecode_cache.clear()  # the code itself read once (not from this container's copy)
    with CallCounter() as calls:
        again = scan(app_client, code["slug"], {"Cookie": visit,
                                                "Authorization": f"Bearer {vip_token}"})
    assert (landed(again), body(again)["reason"]) == ("vipdesk", "returning")
    assert calls.calls.get("GetItem", 0) == 1 and "BatchGetItem" not in calls.calls, calls.calls


def test_a_known_new_visitor_costs_one_audience_read(app_client, tenant):
    code = make_code(app_client, tenant, [url_target("general"), url_target("newdesk")])
    t = ids(code)
    app_client.http.put(f"/v1/livecodes/{code['id']}/audience-rules", headers=auth_headers(tenant),
                        body=json.dumps({"rules": [{"stages": ["new"], "target_ids": [t["newdesk"]]}]}))
    user = _user(app_client, tenant, [])
    token = tokens.issue(tenant["tenant_id"], user)[0]
    from chalicelib.audience import thresholds

    thresholds.clear_caches()
    for cached in (False, True):  # cold: one BatchGet (user + thresholds); warm: one GetItem
        livecode_cache.clear()  # the code itself read once (not from this container's copy)
        with CallCounter() as calls:
            resp = scan(app_client, code["slug"], {"Authorization": f"Bearer {token}"})
        assert landed(resp) == "newdesk"
        audience_reads = calls.calls.get("BatchGetItem", 0) + calls.calls.get("GetItem", 0) - 1
        assert audience_reads == 1, calls.calls  # the one GetItem more is the live code itself
        assert ("BatchGetItem" in calls.calls) is (not cached), calls.calls


def test_bad_audience_rules_are_400(app_client, tenant):
    code = make_code(app_client, tenant, [url_target("a")])
    h = auth_headers(tenant)
    for rules, field in (([{"target_ids": [ids(code)["a"]]}], "rules[0]"),
                         ([{"tags_any": ["x"], "target_ids": ["nope"]}], "rules[0].target_ids"),
                         ([{"stages": ["gold"], "target_ids": [ids(code)["a"]]}], "rules[0].stages")):
        resp = app_client.http.put(f"/v1/livecodes/{code['id']}/audience-rules", headers=h,
                                   body=json.dumps({"rules": rules}))
        assert_error(resp, 400, "invalid-audience-rule")
        assert body(resp)["error"]["field"] == field


# ---- stores --------------------------------------------------------------------------------------

@pytest.fixture
def ip_table(tmp_path, monkeypatch):
    path = tmp_path / "regions.csv"
    path.write_text("# start,end,region\n127.0.0.0,127.255.255.255,Beijing\n"
                    "2001:db8::,2001:db8::ffff,shanghai\n")
    monkeypatch.setenv("YUTANG_X_IP_REGIONS", str(path))
    reset_settings()
    yield path
    monkeypatch.delenv("YUTANG_X_IP_REGIONS")
    reset_settings()


def _store_code(client, tenant):
    return make_code(client, tenant, [url_target("square", store=SQUARE),
                                      url_target("wangfujing", store=WANGFUJING),
                                      url_target("online")], fallback=url_target("cs"))


def test_store_targets_are_saved_and_bad_ones_refused(app_client, tenant):
    code = _store_code(app_client, tenant)
    assert code["targets"][0]["store"] == SQUARE and code["targets"][2]["store"] is None
    h = auth_headers(tenant)
    resp = app_client.http.patch(f"/v1/livecodes/{code['id']}/targets/{ids(code)['online']}",
                                 headers=h, body=json.dumps({"store": {**SQUARE, "radius_m": 300}}))
    assert resp.status_code == 200 and body(resp)["store"]["radius_m"] == 300, resp.body
    got = body(app_client.http.get(f"/v1/livecodes/{code['id']}", headers=h))
    assert got["targets"][2]["store"]["radius_m"] == 300
    resp = app_client.http.post(f"/v1/livecodes/{code['id']}/targets", headers=h,
                                body=json.dumps(url_target("x", store={"lat": 1, "lng": 2})))
    assert_error(resp, 400, "invalid-store")


def test_the_html_scan_asks_for_the_position_with_a_nonce_csp(app_client, tenant):
    code = _store_code(app_client, tenant)
    with CallCounter() as calls:
        resp = scan(app_client, code["slug"], {"Accept": "text/html"})
    assert calls.calls == {"GetItem": 1}, calls.calls  # the code's read: no claim, no scan event
    assert resp.status_code == 200 and "Set-Cookie" not in resp.headers
    page = resp.body.decode()
    assert 'id="locate-form"' in page and "getCurrentPosition" in page
    nonce = re.search(r'<script nonce="([^"]+)">', page).group(1)
    csp = resp.headers["Content-Security-Policy"]
    assert f"script-src 'nonce-{nonce}'" in csp and "form-action 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    again = scan(app_client, code["slug"], {"Accept": "text/html"}).body.decode()
    assert re.search(r'<script nonce="([^"]+)">', again).group(1) != nonce
    skipped = scan(app_client, code["slug"], {"Accept": "text/html"}, "?loc=skip")
    assert skipped.status_code == 302  # no table, no position: the other targets
    # a code without stores never asks
    plain = make_code(app_client, tenant, [url_target("a")])
    assert scan(app_client, plain["slug"], {"Accept": "text/html"}).status_code == 302


def test_a_posted_position_goes_to_the_nearest_store_and_stays(app_client, tenant):
    code = _store_code(app_client, tenant)
    form = {"Accept": "text/html", "Content-Type": "application/x-www-form-urlencoded"}
    resp = scan(app_client, code["slug"], form, method="POST", data="lat=31.2310&lng=121.4740&denied=")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/square")
    visit = cookies(resp)[0]
    back = scan(app_client, code["slug"], {"Cookie": visit})
    assert (landed(back), body(back)["reason"]) == ("square", "returning")
    as_json = scan(app_client, code["slug"], query="?lat=39.9140&lng=116.4100")
    assert landed(as_json) == "wangfujing"
    bad = scan(app_client, code["slug"], {"Content-Type": "application/json"}, method="POST",
               data=json.dumps({"lat": 200, "lng": 1}))
    assert_error(bad, 400, "invalid-location")


def test_declined_or_out_of_reach_goes_by_ip_region_else_the_rest(app_client, tenant, ip_table):
    code = _store_code(app_client, tenant)
    assert get_settings().extra["YUTANG_X_IP_REGIONS"] == str(ip_table)
    form = {"Accept": "text/html", "Content-Type": "application/x-www-form-urlencoded"}
    resp = scan(app_client, code["slug"], form, method="POST", data="denied=1")
    assert resp.headers["Location"].endswith("/wangfujing")  # 127.0.0.1 is Beijing in the table
    far = scan(app_client, code["slug"], query="?lat=23.1291&lng=113.2644")  # Guangzhou
    assert landed(far) == "wangfujing"


def test_declined_with_no_region_and_no_other_target_gets_the_fallback(app_client, tenant):
    code = make_code(app_client, tenant, [url_target("square", store=SQUARE)],
                     fallback=url_target("cs"))
    resp = scan(app_client, code["slug"], {"Content-Type": "application/json"}, method="POST",
                data=json.dumps({"denied": True}))
    assert landed(resp) == "cs"


# ---- experiments ---------------------------------------------------------------------------------

def _experiment_code(client, tenant):
    code = make_code(client, tenant, [url_target("a1"), url_target("b1"), url_target("other")])
    t = ids(code)
    resp = client.http.put(f"/v1/livecodes/{code['id']}/experiment", headers=auth_headers(tenant),
                           body=json.dumps({"goal": "adds", "arms": [
                               {"name": "A", "weight": 1, "target_ids": [t["a1"]]},
                               {"name": "B", "weight": 1, "target_ids": [t["b1"]]}]}))
    assert resp.status_code == 200, resp.body
    return code, t


def test_an_experiment_splits_new_visitors_and_keeps_them_in_their_arm(app_client, tenant):
    code, _ = _experiment_code(app_client, tenant)
    first = [scan(app_client, code["slug"]) for _ in range(40)]
    names = [landed(r) for r in first]
    assert set(names) == {"a1", "b1"} and 8 <= names.count("a1") <= 32
    for resp, name in zip(first[:5], names[:5], strict=True):
        assert landed(scan(app_client, code["slug"], {"Cookie": cookies(resp)[0]})) == name
    got = body(app_client.http.get(f"/v1/livecodes/{code['id']}", headers=auth_headers(tenant)))
    assert got["experiment"]["goal"] == "adds" and got["experiment"].get("winner") is None


def test_experiment_figures_significance_and_the_confirmed_winner(app_client, tenant):
    code, t = _experiment_code(app_client, tenant)
    h = auth_headers(tenant)
    drain_once(get_settings().events_queue, app_module.handle_events, visibility_timeout=0)
    now = datetime.now(timezone.utc).isoformat()
    base = {"tenant_id": tenant["tenant_id"], "code_id": code["id"], "at": now, "channel": "c"}
    scans = [{**base, "type": "scan", "visitor_id": f"v{i:015d}", "new_visitor": True,
              "first_today": True, "assigned": True, "reason": "assigned",
              "target_id": t["a1"] if i < 100 else t["b1"]} for i in range(200)]
    adds = [{**base, "type": "staff_added", "target_id": t["a1"] if i < 10 else t["b1"]}
            for i in range(40)]
    aggregate.consume(scans + adds)
    stats = body(app_client.http.get(f"/v1/livecodes/{code['id']}/experiment", headers=h))
    a, b = stats["arms"]
    assert (a["visitors"], a["goal"], b["visitors"], b["goal"]) == (100, 10, 100, 30), stats
    assert (a["rate"], b["rate"], stats["leader"]) == (0.1, 0.3, "B")
    assert b["p_value"] == pytest.approx(0.000365, abs=5e-5)  # z = 3.56
    assert stats["p_value"] == pytest.approx(b["p_value"], rel=1e-6)  # two arms: chi² = z²
    won = app_client.http.post(f"/v1/livecodes/{code['id']}/experiment/winner", headers=h,
                               body=json.dumps({"arm": "B"}))
    assert won.status_code == 200 and body(won)["winner"] == "B", won.body
    assert {landed(scan(app_client, code["slug"])) for _ in range(15)} == {"b1"}
    assert_error(app_client.http.post(f"/v1/livecodes/{code['id']}/experiment/winner", headers=h,
                                      body=json.dumps({"arm": "C"})), 400, "invalid-experiment")
    assert app_client.http.delete(f"/v1/livecodes/{code['id']}/experiment",
                                  headers=h).status_code == 204
    assert_error(app_client.http.get(f"/v1/livecodes/{code['id']}/experiment", headers=h),
                 409, "no-experiment")
    assert {landed(scan(app_client, code["slug"])) for _ in range(5)} == {"a1"}  # fill again


def test_bad_experiments_are_400_and_rules_and_arms_do_not_share_targets(app_client, tenant):
    code, t = _experiment_code(app_client, tenant)
    h = auth_headers(tenant)
    resp = app_client.http.put(f"/v1/livecodes/{code['id']}/experiment", headers=h,
                               body=json.dumps({"goal": "clicks", "arms": []}))
    assert_error(resp, 400, "invalid-experiment")
    resp = app_client.http.put(f"/v1/livecodes/{code['id']}/audience-rules", headers=h,
                               body=json.dumps({"rules": [{"tags_any": ["x"],
                                                           "target_ids": [t["a1"]]}]}))
    assert_error(resp, 409, "target-in-experiment")
    store = app_client.http.post(f"/v1/livecodes/{code['id']}/targets", headers=h,
                                 body=json.dumps(url_target("shop", store=SQUARE)))
    resp = app_client.http.put(f"/v1/livecodes/{code['id']}/experiment", headers=h,
                               body=json.dumps({"goal": "joins", "arms": [
                                   {"name": "A", "target_ids": [t["a1"]]},
                                   {"name": "S", "target_ids": [body(store)["id"]]}]}))
    assert_error(resp, 400, "invalid-experiment")


def test_a_link_preview_bot_is_routed_as_a_stranger(app_client, tenant):
    code = make_code(app_client, tenant, [url_target("vipdesk"), url_target("general")])
    app_client.http.put(f"/v1/livecodes/{code['id']}/audience-rules", headers=auth_headers(tenant),
                        body=json.dumps({"rules": [{"tags_any": ["vip"],
                                                    "target_ids": [ids(code)["vipdesk"]]}]}))
    bot = scan(app_client, code["slug"], {"User-Agent": "facebookexternalhit/1.1"})
    assert landed(bot) == "general" and "Set-Cookie" not in bot.headers


def test_outside_the_windows_a_store_code_does_not_ask(app_client, tenant, monkeypatch):
    from chalicelib import clock

    monday_10 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # Monday 10:00 in Shanghai
    monkeypatch.setattr(clock, "now", lambda: monday_10)
    code = make_code(app_client, tenant, [url_target("square", store=SQUARE)],
                     fallback=url_target("cs"), windows=[{"days": [6, 7]}])
    resp = scan(app_client, code["slug"], {"Accept": "text/html"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/cs")


def test_each_goal_reads_its_insight_counter_per_target():
    from chalicelib.livecodes.code_rules import _goal

    totals = {"tw_t1": 4, "tg_t1": 3, "cv0_t1": 1, "cv6_t1": 2, "cv3_t12": 9, "cv0": 5, "ta_t1": 50}
    assert [_goal(totals, g, "t1") for g in ("adds", "joins", "conversions")] == [4, 3, 3]
    assert _goal(totals, "conversions", "t12") == 9 and _goal(totals, "adds", "t9") == 0
