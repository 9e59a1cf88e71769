"""Insight over HTTP: overview, funnel, channels, heatmap, content per day, alerts, bots — every
number checked against the events this test generated (scans via /s/{slug}, 企业微信 callbacks via
the fake, orders via POST /v1/events, campaign sends via the outbox and webhook channels, content
events via /mp/v1)."""
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

import app as app_module
from chalicelib.analytics import bots
from chalicelib.livecodes import service as livecodes
from devstack.drain import drain_once
from devstack.fake_wecom import chat_members_changed, contact_added, contact_removed
from tests.conftest import auth_headers
from tests.support.api import assert_error, body
from tests.support.http_sink import Sink
from tests.support.images import png_b64
from tests.support.wechat import fake_wechat  # noqa: F401
from tests.support.wecom import callback, configure, fake_wecom  # noqa: F401

SHANGHAI = ZoneInfo("Asia/Shanghai")
PEOPLE = {
    "wechat-ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
                  "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) "
                  "NetType/WIFI Language/zh_CN",
    "wechat-android": "Mozilla/5.0 (Linux; Android 13; V2229A Build/TP1A.220624.014; wv) "
                      "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/111.0.5563.116 "
                      "Mobile Safari/537.36 XWEB/1110017 MMWEBSDK/20231002 MMWEBID/2585 "
                      "MicroMessenger/8.0.43.2480(0x28002B51) WeChat/arm64 Weixin NetType/WIFI "
                      "Language/zh_CN ABI/arm64",
    "wxwork": "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
              "(KHTML, like Gecko) Mobile/15E148 wxwork/4.1.16 MicroMessenger/7.0.1 "
              "Language/zh ColorScheme/Light",
    "chrome": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/120.0.0.0 Safari/537.36",
    "safari": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
              "Gecko) Version/17.1 Safari/605.1.15",
    "cubot-phone": "Mozilla/5.0 (Linux; Android 11; CUBOT_X30) AppleWebKit/537.36 (KHTML, like "
                   "Gecko) Chrome/119.0.6045.163 Mobile Safari/537.36",
}
BOTS = {
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)": "googlebot",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
    "+http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36": "bingbot",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)": "facebook",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)": "slack",
    "TelegramBot (like TwitterBot)": "telegram",
    "WhatsApp/2.23.20.0 A": "whatsapp",
    "Twitterbot/1.0": "twitter",
    "ELB-HealthChecker/2.0": "monitor",
    "kube-probe/1.28": "monitor",
    "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)": "monitor",
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)": "baidu",
    "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)": "sogou",
    "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/109.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse": "auditor",
    "Mozilla/5.0 (compatible; WeChatBot/1.0; +https://weixin.qq.com)": "wechat",
}
# Programs and headless browsers are people here: an app's HTTP client, an integration or an API
# check must claim capacity and count like anyone (see chalicelib/analytics/bots.py).
PROGRAMS = ["curl/8.4.0", "python-requests/2.32.3", "okhttp/4.12.0", "",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/120.0.6099.28 Safari/537.36"]

BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def call(client, method, path, tenant, payload=None, headers=None):
    h = auth_headers(tenant) if tenant else {}
    h.update(headers or {})
    kwargs = {"headers": h}
    if payload is not None:
        kwargs["body"] = json.dumps(payload)
    resp = getattr(client.http, method)(path, **kwargs)
    return resp.status_code, (json.loads(resp.body) if resp.body else None)


def drain():
    """Events until the queue is empty (consumers publish more events as they go)."""
    return drain_once("yutang-events", app_module.handle_events, visibility_timeout=0)


def drain_sends():
    return drain_once("yutang-sends", app_module.handle_sends, visibility_timeout=0)


def scan(client, slug, ua=PEOPLE["wechat-ios"], cookie=None, accept="application/json"):
    headers = {"Accept": accept, "User-Agent": ua}
    if cookie:
        headers["Cookie"] = cookie
    return client.http.get(f"/s/{slug}", headers=headers)


def new_code(client, tenant, **extra):
    payload = {"name": "福利群", "channel": "poster", "strategy": "fill", "targets": [
        {"kind": "group", "name": "1 群", "capacity": 3, "image": png_b64()}],
        "fallback": {"kind": "url", "name": "官网", "url": "https://example.com"}, **extra}
    status, code = call(client, "post", "/v1/livecodes", tenant, payload)
    assert status == 201, code
    return code


def totals(client, tenant, query=""):
    status, got = call(client, "get", f"/v1/analytics/overview{query}", tenant)
    assert status == 200, got
    return got


# ---- bots ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("ua", sorted(PEOPLE.values()))
def test_people_are_not_bots(ua):
    assert bots.classify(ua) is None


@pytest.mark.parametrize("ua,family", sorted(BOTS.items()))
def test_real_crawler_user_agents_are_bots(ua, family):
    assert bots.classify(ua) == family


@pytest.mark.parametrize("ua", PROGRAMS)
def test_programs_and_headless_browsers_count_as_people(ua):
    assert bots.classify(ua) is None


def test_a_scripted_client_claims_capacity_and_counts(app_client, tenant):
    code = new_code(app_client, tenant, targets=[
        {"kind": "group", "name": "1 群", "capacity": 10, "image": png_b64()}])
    for ua in PROGRAMS:
        assert body(scan(app_client, code["slug"], ua=ua))["target"]["id"] == code["targets"][0]["id"]
    status, after = call(app_client, "get", f"/v1/livecodes/{code['id']}", tenant)
    assert after["targets"][0]["assigned"] == len(PROGRAMS)
    drain()
    assert totals(app_client, tenant)["totals"]["scans"] == len(PROGRAMS)


def test_bots_are_answered_but_claim_nothing_and_are_counted_apart(app_client, tenant):
    code = new_code(app_client, tenant)
    for ua in BOTS:
        resp = scan(app_client, code["slug"], ua=ua)
        assert resp.status_code == 200 and "Set-Cookie" not in resp.headers  # no sticky visit
        assert body(resp)["target"]["id"] == code["targets"][0]["id"]  # the page a person gets
        html = scan(app_client, code["slug"], ua=ua, accept="text/html")
        assert html.status_code == 200 and "Set-Cookie" not in html.headers
    status, after = call(app_client, "get", f"/v1/livecodes/{code['id']}", tenant)
    assert after["targets"][0]["assigned"] == 0  # no capacity used by 2 × 16 bot scans
    first = scan(app_client, code["slug"], ua=PEOPLE["wechat-android"])
    cookie = first.headers["Set-Cookie"].split(";")[0]
    scan(app_client, code["slug"], ua=PEOPLE["wechat-android"], cookie=cookie)  # returning
    scan(app_client, code["slug"], ua=PEOPLE["chrome"])
    drain()
    n_bots = 2 * len(BOTS)
    got = totals(app_client, tenant)
    assert (got["totals"]["scans"], got["totals"]["bot_scans"]) == (3, n_bots)
    assert (got["totals"]["unique_visitors"], got["totals"]["new_visitors"]) == (2, 2)
    assert totals(app_client, tenant, "?include_bots=1")["totals"]["scans"] == 3 + n_bots
    status, stats = call(app_client, "get", f"/v1/livecodes/{code['id']}/stats", tenant)
    assert (stats["scans"], stats["bot_scans"], stats["assigned"]) == (3, n_bots, 2)
    assert stats["targets"][0] == {"id": code["targets"][0]["id"], "scans": 3, "assigned": 2,
                                   "bot_scans": n_bots}
    status, funnel = call(app_client, "get", f"/v1/livecodes/{code['id']}/funnel", tenant)
    assert funnel["steps"][0] == {"key": "scan", "count": 3}
    status, funnel = call(app_client, "get", f"/v1/livecodes/{code['id']}/funnel?include_bots=1",
                          tenant)
    assert funnel["steps"][0]["count"] == 3 + n_bots
    assert funnel["targets"][0]["scan"] == 3 + n_bots  # the resolved target is recorded for bots
    status, after = call(app_client, "get", f"/v1/livecodes/{code['id']}", tenant)
    assert after["targets"][0]["assigned"] == 2
    status, heat = call(app_client, "get", f"/v1/analytics/heatmap?code_id={code['id']}", tenant)
    assert heat["max"] >= 1 and sum(map(sum, heat["matrix"])) == 3  # people only


def test_a_bot_never_takes_the_last_place(app_client, tenant):
    code = new_code(app_client, tenant, targets=[
        {"kind": "group", "name": "1 群", "capacity": 1, "image": png_b64()}])
    for ua in list(BOTS)[:5]:
        assert body(scan(app_client, code["slug"], ua=ua))["target"]["kind"] == "group"
    person = body(scan(app_client, code["slug"]))
    assert person["target"]["kind"] == "group" and person["reason"] == "assigned"
    assert body(scan(app_client, code["slug"], ua=PEOPLE["chrome"]))["target"]["kind"] == "url"


# ---- overview -----------------------------------------------------------------------------------

@pytest.fixture
def wecom_tenant(fake_wecom, tenant):  # noqa: F811
    configure(tenant["tenant_id"])
    return tenant


def post_callback(client, tenant_id, fields):
    signed = callback(fields)
    resp = client.http.post(f"/wecom/v1/callback/{tenant_id}?{urlencode(signed.query)}",
                            headers={"Content-Type": "text/xml"}, body=signed.body)
    assert resp.status_code == 200, resp.body


def staff_code(client, tenant, channel="wecom-poster"):
    status, code = call(client, "post", "/v1/livecodes", tenant, {
        "name": "加客服", "channel": channel, "targets": [
            {"kind": "staff", "name": "小鱼", "wecom_user_ids": ["zhangsan"]}]})
    assert status == 201, code
    return code


def user_of(client, tenant, external):
    status, contact = call(client, "get", f"/v1/integrations/wecom/contacts/{external}", tenant)
    assert status == 200, contact
    return contact["user_id"]


@pytest.fixture
def published(monkeypatch):
    """Every event the aggregator receives (= every domain event on the queue), by type."""
    from chalicelib.analytics import aggregate

    seen: dict[str, list[dict]] = {}
    real = aggregate.consume

    def recording(payloads):
        for p in payloads:
            seen.setdefault(p["type"], []).append(dict(p))
        return real(payloads)

    monkeypatch.setattr(aggregate, "consume", recording)
    return seen


# The fields docs/events.md promises for each type (webhooks subscribe to these).
CONTRACT = {
    "scan": {"code_id", "channel", "target_id", "assigned", "visitor_id", "new_visitor", "day",
             "bot"},
    "staff_added": {"user_id", "external_userid", "staff", "code_id", "target_id", "channel",
                    "event_type", "properties"},
    "customer_lost": {"user_id", "external_userid", "staff", "removed_by", "code_id"},
    "group_joined": {"user_id", "external_userid", "chat_id", "code_id", "target_id", "channel"},
    "group_left": {"chat_id", "code_id", "target_id", "external_userids", "count"},
    "message_sent": {"campaign_id", "run_id", "batch", "channel", "user_ids", "count"},
    "message_skipped": {"campaign_id", "run_id", "batch", "channel", "user_ids", "count",
                        "reasons"},
    "message_failed": {"campaign_id", "run_id", "batch", "channel", "user_ids", "count", "reasons"},
    "message_clicked": {"user_id", "campaign_id", "run_id"},
    "order_paid": {"user_id", "event_type", "properties"},
    "invite_counted": {"task_id", "participant_id", "visitor_id", "code_id"},
    "reward_granted": {"task_id", "participant_id"},
}


def check_contract(published, types):
    for kind in types:
        assert published.get(kind), f"no {kind} event was published"
        for payload in published[kind]:
            missing = (CONTRACT[kind] | {"type", "tenant_id", "at"}) - set(payload)
            assert not missing, (kind, missing)
            datetime.fromisoformat(payload["at"])


def test_overview_counts_every_source_per_day_with_the_previous_period(
        app_client, wecom_tenant, fake_wecom, fake_wechat, published):  # noqa: F811
    tenant, tid = wecom_tenant, wecom_tenant["tenant_id"]
    code = staff_code(app_client, tenant)
    state = code["targets"][0]["wecom"]["state"]
    for _ in range(3):
        scan(app_client, code["slug"], ua=PEOPLE["wechat-ios"])
    for i in range(3):
        post_callback(app_client, tid, contact_added("sys", "zhangsan", f"wmO{i}", state))
    post_callback(app_client, tid, contact_removed("sys", "zhangsan", "wmO2"))
    post_callback(app_client, tid, contact_removed("sys", "zhangsan", "wmO1", "del_follow_user"))
    # a group code through a 企业微信 join way: two join, one leaves
    fake_wecom.add_chat("wrO", customers=0)
    status, group = call(app_client, "post", "/v1/livecodes", tenant, {
        "name": "群", "channel": "moments", "targets": [
            {"kind": "group", "name": "福利群", "wecom_chat_ids": ["wrO"]}]})
    gstate = group["targets"][0]["wecom"]["state"]
    fake_wecom.join_chat("wrO", "wmJ0", state=gstate)
    fake_wecom.join_chat("wrO", "wmJ1", state=gstate)
    post_callback(app_client, tid, chat_members_changed("sys", "wrO", "add_member", ["wmJ0", "wmJ1"]))
    drain()  # the consumer reads the member list: before wmJ1 leaves
    fake_wecom.leave_chat("wrO", "wmJ1")
    post_callback(app_client, tid, chat_members_changed("sys", "wrO", "del_member", ["wmJ1"]))
    drain()
    # orders: two today, one 8 days ago (the previous period of a 7-day range)
    buyer = user_of(app_client, tenant, "wmO0")
    for at in (None, None, (datetime.now(timezone.utc) - timedelta(days=8)).isoformat()):
        payload = {"user_id": buyer, "type": "order_paid", "properties": {"amount": 10}}
        if at:
            payload["at"] = at
        assert call(app_client, "post", "/v1/events", tenant, payload)[0] == 202
    # a campaign on the outbox channel: 3 sent, 1 skipped (unsubscribed), 1 click
    from chalicelib.audience import users as audience
    from chalicelib.mp import tokens

    vip = [audience.create_user(tid, {"brand_user_id": f"v{i}"}, tags=["vip"])["id"] for i in range(4)]
    token, _ = tokens.issue(tid, vip[3])
    assert app_client.http.post("/mp/v1/unsubscribe",
                                headers={"Authorization": f"Bearer {token}"}).status_code == 200
    status, campaign = call(app_client, "post", "/v1/campaigns", tenant, {
        "name": "周末", "audience": {"tags_any": ["vip"]}, "quiet_hours": False,
        "message": {"text": "看看 https://example.com/new"}})
    assert call(app_client, "post", f"/v1/campaigns/{campaign['id']}/run", tenant)[0] == 202
    drain_sends()
    status, outbox = call(app_client, "get", f"/v1/outbox?campaign_id={campaign['id']}", tenant)
    link = outbox["items"][0]["text"].split("/c/")[1].split()[0]
    assert app_client.http.get(f"/c/{link}").status_code == 302
    assert app_client.http.get(f"/c/{link}").status_code == 302  # a second click of the same user
    # content events from the mini-program
    resp = app_client.http.post("/mp/v1/login", headers={"Content-Type": "application/json"},
                                body=json.dumps({"tenant": tid, "code": "alice"}))
    mp = {"Authorization": f"Bearer {body(resp)['token']}", "Content-Type": "application/json"}
    status, item = call(app_client, "post", "/v1/contents", tenant,
                        {"type": "text", "title": "t", "body": "b", "tags": ["x"]})
    for kind in ("view", "view", "click"):
        app_client.http.post(f"/mp/v1/contents/{item['id']}/events", headers=mp,
                             body=json.dumps({"type": kind}))
    drain()

    got = totals(app_client, tenant)
    t = got["totals"]
    today = datetime.now(SHANGHAI).date()
    assert got["timezone"] == "Asia/Shanghai" and got["to"] == today.isoformat()
    assert got["from"] == (today - timedelta(days=6)).isoformat() and len(got["days"]) == 7
    assert (t["scans"], t["unique_visitors"], t["new_visitors"], t["bot_scans"]) == (3, 3, 3, 0)
    assert (t["staff_added"], t["customers_lost"], t["net_added"]) == (3, 2, 1)
    assert (t["group_joined"], t["group_left"]) == (2, 1)
    assert (t["messages_sent"], t["messages_skipped"], t["messages_failed"],
            t["messages_clicked"]) == (3, 1, 0, 1)
    assert t["orders_paid"] == 2 and (t["content_views"], t["content_clicks"]) == (2, 1)
    assert got["days"][-1] == {"date": today.isoformat(), **t}  # everything happened today
    assert all(d["scans"] == 0 for d in got["days"][:-1])
    prev = got["previous"]
    assert prev["from"] == (today - timedelta(days=13)).isoformat()
    assert prev["to"] == (today - timedelta(days=7)).isoformat()
    assert prev["totals"]["orders_paid"] == 1 and prev["totals"]["scans"] == 0
    # a one-day range of yesterday holds nothing; its previous day neither
    yesterday = (today - timedelta(days=1)).isoformat()
    one = totals(app_client, tenant, f"?from={yesterday}&to={yesterday}")
    assert one["totals"]["scans"] == 0 and len(one["days"]) == 1
    check_contract(published, ["scan", "staff_added", "customer_lost", "group_joined", "group_left",
                               "message_sent", "message_skipped", "message_clicked", "order_paid"])
    assert published["message_sent"][0]["count"] == 3
    assert published["message_skipped"][0]["reasons"] == {vip[3]: "unsubscribed"}
    assert {p["removed_by"] for p in published["customer_lost"]} == {"staff", "customer"}
    # the live code's own stats agree with the overview
    status, wecom_stats = call(app_client, "get",
                               f"/v1/integrations/wecom/livecodes/{code['id']}/stats", tenant)
    assert (wecom_stats["adds"], wecom_stats["removals"]) == (3, 2)


@pytest.mark.parametrize("query,field", [
    ("?from=2024-13-01", "from"), ("?from=2024-02-02&to=2024-02-01", "from"),
    ("?from=2020-01-01&to=2024-01-01", "from"), ("?tz=Europe/Paris", "tz"), ("?tz=Mars/Base", "tz"),
    ("?include_bots=yes", "include_bots")])
def test_overview_bad_input(app_client, tenant, query, field):
    resp = app_client.http.get(f"/v1/analytics/overview{query}", headers=auth_headers(tenant))
    assert_error(resp, 400)
    assert body(resp)["error"]["field"] == field


def test_overview_tz_may_name_a_zone_with_the_same_days(app_client, tenant):
    for tz in ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei"):
        assert totals(app_client, tenant, f"?tz={tz}")["timezone"] == "Asia/Shanghai"


def test_insight_routes_need_a_key_and_are_per_tenant(app_client, tenant, other_tenant):
    code = new_code(app_client, tenant)
    scan(app_client, code["slug"])
    drain()
    assert totals(app_client, tenant)["totals"]["scans"] == 1
    assert totals(app_client, other_tenant)["totals"]["scans"] == 0
    for path in ("/v1/analytics/overview", "/v1/analytics/channels", "/v1/analytics/heatmap",
                 "/v1/alerts", f"/v1/livecodes/{code['id']}/funnel"):
        assert_error(app_client.http.get(path), 401)
    assert_error(app_client.http.get(f"/v1/livecodes/{code['id']}/funnel",
                                     headers=auth_headers(other_tenant)), 404)
    assert_error(app_client.http.get(f"/v1/analytics/heatmap?code_id={code['id']}",
                                     headers=auth_headers(other_tenant)), 404)
    status, channels = call(app_client, "get", "/v1/analytics/channels", other_tenant)
    assert channels["items"] == []


# ---- funnel and channels ------------------------------------------------------------------------

def test_funnel_per_target_with_conversions_within_n_days(app_client, wecom_tenant, fake_wecom):  # noqa: F811
    tenant, tid = wecom_tenant, wecom_tenant["tenant_id"]
    code = staff_code(app_client, tenant, channel="地推")
    target = code["targets"][0]
    state = target["wecom"]["state"]
    for ua in (PEOPLE["wechat-ios"], PEOPLE["wechat-android"], PEOPLE["chrome"], PEOPLE["safari"]):
        scan(app_client, code["slug"], ua=ua)
    scan(app_client, code["slug"], ua="Twitterbot/1.0")
    ten_days_ago = int((datetime.now(timezone.utc) - timedelta(days=10)).timestamp())
    post_callback(app_client, tid, contact_added("sys", "zhangsan", "wmF0", state))
    post_callback(app_client, tid, contact_added("sys", "zhangsan", "wmF1", state))
    post_callback(app_client, tid, contact_added("sys", "zhangsan", "wmF2", state,
                                                 create_time=ten_days_ago))
    post_callback(app_client, tid, contact_added("sys", "zhangsan", "wmNone"))  # not via the code
    drain()
    for external in ("wmF0", "wmF2", "wmF0"):  # wmF0 twice: converts once; wmF2 after 10 days
        payload = {"user_id": user_of(app_client, tenant, external), "type": "order_paid"}
        assert call(app_client, "post", "/v1/events", tenant, payload)[0] == 202
    drain()
    path = f"/v1/livecodes/{code['id']}/funnel"
    status, funnel = call(app_client, "get", path, tenant)
    assert status == 200 and funnel["within_days"] == 7
    assert funnel["steps"] == [{"key": "scan", "count": 4}, {"key": "shown", "count": 4},
                               {"key": "added", "count": 3}, {"key": "converted", "count": 1}]
    assert funnel["targets"] == [{"id": target["id"], "name": "小鱼", "kind": "staff", "scan": 4,
                                  "shown": 4, "added": 3, "converted": 1}]
    status, wide = call(app_client, "get", f"{path}?within_days=11", tenant)
    assert wide["steps"][3]["count"] == 2 and wide["targets"][0]["converted"] == 2
    today = datetime.now(ZoneInfo(code["timezone"])).date()
    status, recent = call(app_client, "get", f"{path}?from={today - timedelta(days=2)}", tenant)
    assert recent["steps"][2]["count"] == 2  # the add of 10 days ago is out of range
    status, channels = call(app_client, "get", "/v1/analytics/channels?within_days=11", tenant)
    assert channels["items"] == [{"channel": "地推", "codes": 1, "scan": 4, "shown": 4,
                                  "added": 3, "converted": 2}]
    for bad in ("within_days=0", "within_days=31", "within_days=x", "from=2024-02-30"):
        assert_error(app_client.http.get(f"{path}?{bad}", headers=auth_headers(tenant)), 400)
    assert_error(app_client.http.get("/v1/livecodes/nosuchcode/funnel",
                                     headers=auth_headers(tenant)), 404)


def test_channels_side_by_side(app_client, tenant):
    posters = [new_code(app_client, tenant, channel="poster") for _ in range(2)]
    moments = new_code(app_client, tenant, channel="moments", targets=[
        {"kind": "url", "name": "u", "url": "https://example.com/m"}])
    for code in posters:
        scan(app_client, code["slug"])
    for ua in (PEOPLE["chrome"], PEOPLE["safari"], PEOPLE["wechat-ios"]):
        scan(app_client, moments["slug"], ua=ua)
    scan(app_client, moments["slug"], ua=BOT_UA)
    drain()
    status, got = call(app_client, "get", "/v1/analytics/channels", tenant)
    assert status == 200
    assert got["items"] == [
        {"channel": "moments", "codes": 1, "scan": 3, "shown": 3, "added": 0, "converted": 0},
        {"channel": "poster", "codes": 2, "scan": 2, "shown": 2, "added": 0, "converted": 0}]
    status, with_bots = call(app_client, "get", "/v1/analytics/channels?include_bots=1", tenant)
    assert with_bots["items"][0]["scan"] == 4


# ---- heatmap ------------------------------------------------------------------------------------

def test_heatmap_by_weekday_and_hour_in_the_codes_timezone(app_client, tenant):
    paris = new_code(app_client, tenant, timezone="Europe/Paris")
    other = new_code(app_client, tenant)
    person = livecodes.Visitor(user_agent=PEOPLE["wechat-ios"])
    monday_9_shanghai = datetime(2026, 11, 23, 1, 30, tzinfo=timezone.utc)  # 02:30 in Paris
    sunday_23_shanghai = datetime(2026, 11, 29, 15, 5, tzinfo=timezone.utc)  # 16:05 in Paris
    for at in (monday_9_shanghai, monday_9_shanghai, sunday_23_shanghai):
        livecodes.scan(paris["slug"], person, now=at)
    livecodes.scan(other["slug"], person, now=sunday_23_shanghai)
    livecodes.scan(other["slug"], livecodes.Visitor(user_agent="Googlebot/2.1"), now=sunday_23_shanghai)
    drain()
    q = "from=2026-11-23&to=2026-11-29"
    status, one = call(app_client, "get", f"/v1/analytics/heatmap?code_id={paris['id']}&{q}", tenant)
    assert status == 200 and one["timezone"] == "Europe/Paris" and one["max"] == 2
    assert one["matrix"][0][2] == 2 and one["matrix"][6][16] == 1
    assert sum(map(sum, one["matrix"])) == 3 and len(one["matrix"]) == 7
    assert all(len(row) == 24 for row in one["matrix"])
    status, every = call(app_client, "get", f"/v1/analytics/heatmap?{q}", tenant)
    assert every["timezone"] == "Asia/Shanghai" and every["code_id"] is None
    assert every["matrix"][0][9] == 2 and every["matrix"][6][23] == 2 and every["max"] == 2
    assert sum(map(sum, every["matrix"])) == 4  # the bot is left out


# ---- content per day ----------------------------------------------------------------------------

def test_content_stats_per_day_with_unique_users(app_client, tenant, other_tenant, fake_wechat):  # noqa: F811
    tid = tenant["tenant_id"]
    status, item = call(app_client, "post", "/v1/contents", tenant,
                        {"type": "text", "title": "t", "body": "b", "tags": ["x"]})
    status, other = call(app_client, "post", "/v1/contents", tenant,
                         {"type": "text", "title": "o", "body": "b", "tags": ["x"]})
    sessions = []
    for code in ("alice", "bob"):
        resp = app_client.http.post("/mp/v1/login", headers={"Content-Type": "application/json"},
                                    body=json.dumps({"tenant": tid, "code": code}))
        sessions.append({"Authorization": f"Bearer {body(resp)['token']}",
                         "Content-Type": "application/json"})
    plan = [(0, "view"), (0, "view"), (0, "click"), (0, "favorite"), (1, "view"), (1, "share")]
    for who, kind in plan:
        resp = app_client.http.post(f"/mp/v1/contents/{item['id']}/events", headers=sessions[who],
                                    body=json.dumps({"type": kind}))
        assert resp.status_code == 202, resp.body
    app_client.http.post(f"/mp/v1/contents/{other['id']}/events", headers=sessions[0],
                         body=json.dumps({"type": "view"}))
    drain()
    status, got = call(app_client, "get", f"/v1/contents/{item['id']}/stats", tenant)
    assert status == 200
    assert got["totals"] == {"views": 3, "clicks": 1, "favorites": 1, "shares": 1, "unique_users": 2}
    today = datetime.now(SHANGHAI).date().isoformat()
    assert got["days"][-1] == {"date": today, "views": 3, "clicks": 1, "favorites": 1, "shares": 1,
                               "unique_users": 2}
    assert len(got["days"]) == 30 and sum(d["views"] for d in got["days"]) == 3
    status, theirs = call(app_client, "get", f"/v1/contents/{other['id']}/stats", tenant)
    assert theirs["totals"] == {"views": 1, "clicks": 0, "favorites": 0, "shares": 0,
                                "unique_users": 1}
    assert_error(app_client.http.get("/v1/contents/nope/stats", headers=auth_headers(tenant)), 404)
    assert_error(app_client.http.get(f"/v1/contents/{item['id']}/stats",
                                     headers=auth_headers(other_tenant)), 404)
    assert_error(app_client.http.get(f"/v1/contents/{item['id']}/stats?to=yesterday",
                                     headers=auth_headers(tenant)), 400)


# ---- alerts -------------------------------------------------------------------------------------

def test_alerts_for_targets_sends_and_wecom(app_client, tenant, other_tenant, fake_wecom,  # noqa: F811
                                            published):
    tid = tenant["tenant_id"]
    soon = (datetime.now(timezone.utc) + timedelta(hours=30)).isoformat()
    later = (datetime.now(timezone.utc) + timedelta(days=5)).isoformat()
    status, code = call(app_client, "post", "/v1/livecodes", tenant, {
        "name": "双11", "channel": "poster", "targets": [
            {"kind": "group", "name": "将过期", "image": png_b64(), "expires_at": soon},
            {"kind": "group", "name": "快满", "image": png_b64(), "capacity": 10, "assigned": 9,
             "expires_at": later},
            {"kind": "group", "name": "已满", "image": png_b64(), "capacity": 2, "assigned": 2,
             "expires_at": later},
            {"kind": "group", "name": "正常", "image": png_b64(), "capacity": 10, "assigned": 8,
             "expires_at": later}]})
    assert status == 201, code
    status, got = call(app_client, "get", "/v1/alerts", tenant)
    assert status == 200
    kinds = sorted((a["kind"], a["severity"], a["object"]["name"]) for a in got["items"])
    assert kinds == [("target_expiring", "warning", "将过期"), ("target_full", "critical", "已满"),
                     ("target_near_capacity", "warning", "快满")]
    assert got["items"][0]["kind"] == "target_full"  # critical first
    assert all(a["object"]["type"] == "target" and a["object"]["id"] for a in got["items"])
    # a webhook campaign whose endpoint refuses: failed sends in the last 7 days
    from chalicelib.audience import users as audience

    for i in range(2):
        audience.create_user(tid, {"brand_user_id": f"a{i}"}, tags=["vip"])
    sink = Sink(statuses=[400, 400]).start()
    try:
        status, campaign = call(app_client, "post", "/v1/campaigns", tenant, {
            "name": "推送", "audience": {"tags_any": ["vip"]}, "quiet_hours": False,
            "channel": "webhook", "webhook_url": sink.url, "message": {"text": "hi"}})
        assert status == 201, campaign
        call(app_client, "post", f"/v1/campaigns/{campaign['id']}/run", tenant)
        drain_sends()
    finally:
        sink.stop()
    drain()
    assert totals(app_client, tenant)["totals"]["messages_failed"] == 2
    check_contract(published, ["message_failed"])
    # 企业微信 refuses the credentials now: a token problem
    configure(tid)
    fake_wecom.corps = {"wx5823bf96d3bd56c7": "another-secret"}
    from chalicelib.wecom import client

    client.forget_tokens()
    status, err = call(app_client, "post", "/v1/livecodes", tenant, {
        "name": "x", "channel": "c", "targets": [
            {"kind": "staff", "name": "s", "wecom_user_ids": ["zhangsan"]}]})
    assert status >= 400
    status, got = call(app_client, "get", "/v1/alerts", tenant)
    by_kind = {a["kind"]: a for a in got["items"]}
    failed = by_kind["sends_failed"]
    assert failed["object"] == {"type": "campaign", "id": campaign["id"], "name": "推送",
                                "run_id": failed["object"]["run_id"], "failed": 2}
    problem = by_kind["wecom_problem"]
    assert problem["severity"] == "critical" and problem["object"]["type"] == "wecom_integration"
    assert got["items"][0]["severity"] == "critical"
    # another tenant sees none of it
    status, fresh = call(app_client, "get", "/v1/alerts", other_tenant)
    assert status == 200 and fresh["items"] == []


# ---- fission ------------------------------------------------------------------------------------

def test_invites_and_rewards_count_and_bots_invite_no_one(app_client, tenant, published):
    from tests.support.fission import make_task

    task = make_task(app_client, tenant, goal=2, reward={"message": "送书", "codes": ["BOOK-1"]})
    people = []
    for name in ("Alice", "Bob"):
        status, p = call(app_client, "post", f"/v1/fission-tasks/{task['id']}/participants", tenant,
                         {"nickname": name, "openid": f"o-{name}"})
        assert status == 201, p
        people.append(p)
    alice, bob = (p["invite_url"].replace("http://testserver", "") for p in people)
    for path, ua in ((alice, PEOPLE["wechat-ios"]), (alice, "facebookexternalhit/1.1"),
                     (alice, PEOPLE["wechat-android"]), (bob, PEOPLE["chrome"]),
                     (bob, "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)")):
        resp = app_client.http.get(path, headers={"Accept": "application/json", "User-Agent": ua})
        assert resp.status_code == 200
    drain()
    t = totals(app_client, tenant)["totals"]
    # Bob's desktop Chrome scan is a person's scan but no invite: only WeChat agents invite
    assert (t["invites"], t["rewards"], t["scans"], t["bot_scans"]) == (2, 1, 3, 2)
    check_contract(published, ["invite_counted", "reward_granted"])
    assert published["reward_granted"][0]["participant_id"] == people[0]["participant_id"]
    assert published["reward_granted"][0]["reward_code"] == "BOOK-1"
    status, board = call(app_client, "get", f"/v1/fission-tasks/{task['id']}/leaderboard", tenant)
    assert [r["invites"] for r in board["items"]] == [2, 0]


def test_our_visit_cookie_or_a_mini_program_token_marks_a_person(app_client, tenant, fake_wechat):  # noqa: F811
    code = new_code(app_client, tenant)
    first = scan(app_client, code["slug"], ua=PEOPLE["chrome"])
    cookie = first.headers["Set-Cookie"].split(";")[0]
    again = scan(app_client, code["slug"], ua="facebookexternalhit/1.1",  # cookies are never
                 cookie=cookie)                                        # given to bots
    assert body(again)["returning"] is True
    resp = app_client.http.post("/mp/v1/login", headers={"Content-Type": "application/json"},
                                body=json.dumps({"tenant": tenant["tenant_id"], "code": "carol"}))
    token = body(resp)["token"]
    app_client.http.get(f"/s/{code['slug']}", headers={"Accept": "application/json",
                                                       "Authorization": f"Bearer {token}"})
    drain()
    t = totals(app_client, tenant)["totals"]
    assert (t["scans"], t["bot_scans"], t["new_visitors"]) == (3, 0, 2)


def test_route_call_budgets_with_cold_caches(app_client, tenant):
    """Through the routes, API key and tenant read cold: overview ≤ 3, funnel ≤ 4 AWS calls."""
    from bench.common import CallCounter
    from chalicelib.auth import service as auth

    code = new_code(app_client, tenant)
    for _ in range(15):
        scan(app_client, code["slug"], ua=PEOPLE["chrome"])
    drain()
    budgets = {"/v1/analytics/overview?from=2026-01-01&to=2026-12-31": 3,
               f"/v1/livecodes/{code['id']}/funnel": 4, "/v1/analytics/channels": 3,
               "/v1/analytics/heatmap": 3, f"/v1/analytics/heatmap?code_id={code['id']}": 4,
               "/v1/alerts": 6}  # + the code's claim counters (one BatchGetItem per capped code)
    for path, budget in budgets.items():
        auth.clear_caches()
        with CallCounter() as calls:
            resp = app_client.http.get(path, headers=auth_headers(tenant))
        assert resp.status_code == 200 and calls.total <= budget, (path, calls.calls)
        assert "Scan" not in calls.calls


def test_a_refused_wecom_callback_is_an_alert(app_client, tenant, fake_wecom):  # noqa: F811
    configure(tenant["tenant_id"])
    signed = callback(contact_added("sys", "zhangsan", "wmX"))
    params = {**signed.query, "msg_signature": "0" * 40}
    resp = app_client.http.post(f"/wecom/v1/callback/{tenant['tenant_id']}?{urlencode(params)}",
                                headers={"Content-Type": "text/xml"}, body=signed.body)
    assert_error(resp, 403, "invalid-signature")
    status, got = call(app_client, "get", "/v1/alerts", tenant)
    [alert] = got["items"]
    assert (alert["kind"], alert["severity"], alert["object"]["id"]) == \
        ("wecom_problem", "warning", "callback")
    assert alert["object"]["count"] == 1 and "signature" in alert["message"]
