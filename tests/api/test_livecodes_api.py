"""Live codes over HTTP (chalice.test.Client): CRUD, validation, tenancy, QR, scans, stats."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import auth_headers
from tests.support.images import decode_qr, decode_svg, png_b64


def body(resp):
    return json.loads(resp.body)


def make_code(client, tenant, **overrides):
    payload = {"name": "双11 福利群", "channel": "poster-a", "targets": [
        {"kind": "group", "name": "福利 1 群", "capacity": 2, "image": png_b64()},
        {"kind": "url", "name": "官网", "url": "https://example.com/landing"}]}
    payload.update(overrides)
    resp = client.http.post("/v1/livecodes", headers=auth_headers(tenant), body=json.dumps(payload))
    assert resp.status_code == 201, resp.body
    return body(resp)


def scan(client, slug, cookie=None, accept="application/json", ref=None):
    headers = {"Accept": accept, "User-Agent": "Mozilla/5.0 MicroMessenger/8.0"}
    if cookie:
        headers["Cookie"] = cookie
    return client.http.get(f"/s/{slug}" + (f"?ref={ref}" if ref else ""), headers=headers)


def cookie_of(resp):
    return resp.headers["Set-Cookie"].split(";", 1)[0]


def test_create_get_list_patch_delete(app_client, tenant):
    h = auth_headers(tenant)
    code = make_code(app_client, tenant)
    assert code["scan_url"] == f"http://testserver/s/{code['slug']}"
    assert [t["kind"] for t in code["targets"]] == ["group", "url"]
    group = code["targets"][0]
    assert group["image_url"].startswith(f"http://testserver/m/{tenant['tenant_id']}/img/")
    expires = datetime.fromisoformat(group["expires_at"])
    assert timedelta(days=6, hours=23) < expires - datetime.now(timezone.utc) <= timedelta(days=7)
    assert body(app_client.http.get(f"/v1/livecodes/{code['id']}", headers=h))["name"] == "双11 福利群"
    listed = body(app_client.http.get("/v1/livecodes", headers=h))
    assert [c["id"] for c in listed["items"]] == [code["id"]] and listed["next_cursor"] is None
    patched = body(app_client.http.patch(f"/v1/livecodes/{code['id']}", headers=h, body=json.dumps(
        {"name": "新名字", "strategy": "round_robin", "windows": [{"days": [1, 2], "start": "09:00",
                                                                  "end": "18:00"}]})))
    assert (patched["name"], patched["strategy"], patched["windows"][0]["days"]) == \
        ("新名字", "round_robin", [1, 2])
    assert app_client.http.delete(f"/v1/livecodes/{code['id']}", headers=h).status_code == 204
    assert app_client.http.get(f"/v1/livecodes/{code['id']}", headers=h).status_code == 404
    assert scan(app_client, code["slug"]).status_code == 404


def test_list_pagination(app_client, tenant):
    h = auth_headers(tenant)
    ids = {make_code(app_client, tenant, name=f"c{i}")["id"] for i in range(5)}
    seen, cursor = [], None
    while True:
        page = body(app_client.http.get("/v1/livecodes?limit=2" + (f"&cursor={cursor}" if cursor else ""),
                                        headers=h))
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids)


def test_targets_crud(app_client, tenant):
    h = auth_headers(tenant)
    code = make_code(app_client, tenant)
    added = app_client.http.post(f"/v1/livecodes/{code['id']}/targets", headers=h, body=json.dumps(
        {"kind": "staff", "name": "小鱼", "image": png_b64(fmt="JPEG"), "weight": 3}))
    assert added.status_code == 201
    tid = body(added)["id"]
    assert body(added)["expires_at"] is None  # only group QR images expire by default
    patched = body(app_client.http.patch(f"/v1/livecodes/{code['id']}/targets/{tid}", headers=h,
                                         body=json.dumps({"capacity": 10, "enabled": False})))
    assert (patched["capacity"], patched["enabled"], patched["status"]) == (10, False, "disabled")
    unlimited = body(app_client.http.patch(f"/v1/livecodes/{code['id']}/targets/{tid}", headers=h,
                                           body='{"capacity": null}'))
    assert unlimited["capacity"] is None
    assert app_client.http.delete(f"/v1/livecodes/{code['id']}/targets/{tid}", headers=h).status_code == 204
    after = body(app_client.http.get(f"/v1/livecodes/{code['id']}", headers=h))
    assert tid not in [t["id"] for t in after["targets"]]
    gone = app_client.http.patch(f"/v1/livecodes/{code['id']}/targets/{tid}", headers=h, body="{}")
    assert gone.status_code == 404 and body(gone)["error"]["code"] == "target-not-found"


def test_new_group_image_resets_the_default_expiry(app_client, tenant):
    h = auth_headers(tenant)
    code = make_code(app_client, tenant)
    tid = code["targets"][0]["id"]
    soon = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    app_client.http.patch(f"/v1/livecodes/{code['id']}/targets/{tid}", headers=h,
                          body=json.dumps({"expires_at": soon}))
    renewed = body(app_client.http.patch(f"/v1/livecodes/{code['id']}/targets/{tid}", headers=h,
                                         body=json.dumps({"image": png_b64(color=(1, 2, 3))})))
    assert datetime.fromisoformat(renewed["expires_at"]) > datetime.now(timezone.utc) + timedelta(days=6)


BAD_CODES = [
    ({}, "name"), ({"name": "x"}, "channel"), ({"name": "x", "channel": "c", "strategy": "random"}, "strategy"),
    ({"name": "x", "channel": "c", "targets": "nope"}, "targets"),
    ({"name": "x", "channel": "c", "targets": [{"kind": "group", "name": "g"}]}, "image"),
    ({"name": "x", "channel": "c", "targets": [{"kind": "url", "name": "u"}]}, "url"),
    ({"name": "x", "channel": "c", "targets": [{"kind": "url", "name": "u", "url": "javascript:alert(1)"}]}, "url"),
    ({"name": "x", "channel": "c", "targets": [{"kind": "bot", "name": "u"}]}, "kind"),
    ({"name": "x", "channel": "c", "targets": [{"kind": "url", "name": "u", "url": "https://a.b",
                                                "capacity": 0}]}, "capacity"),
    ({"name": "x", "channel": "c", "targets": [{"kind": "url", "name": "u", "url": "https://a.b",
                                                "expires_at": "tomorrow"}]}, "expires_at"),
    ({"name": "x", "channel": "c", "targets": [{"kind": "url", "name": "u", "url": "https://a.b",
                                                "expires_at": "2026-12-01T10:00:00"}]}, "expires_at"),
    ({"name": "x", "channel": "c", "windows": [{"days": [9]}]}, "windows"),
    ({"name": "x", "channel": "c", "timezone": "Nowhere/City"}, "timezone"),
    ({"name": "x", "channel": "c", "logo": "aGVsbG8="}, "logo"),
    ({"name": "x" * 101, "channel": "c"}, "name"),
    ({"name": "x", "channel": "c", "surprise": 1}, "surprise"),
    ({"name": "x", "channel": "c", "targets": [{"kind": "url", "name": "u", "url": "https://a.b"}] * 51},
     "targets"),
]


@pytest.mark.parametrize("payload,field", BAD_CODES)
def test_bad_livecodes_are_refused_and_nothing_is_created(app_client, tenant, payload, field):
    h = auth_headers(tenant)
    resp = app_client.http.post("/v1/livecodes", headers=h, body=json.dumps(payload))
    assert resp.status_code in (400, 413), resp.body
    err = body(resp)["error"]
    assert err["field"] == field and err["message"]
    assert body(app_client.http.get("/v1/livecodes", headers=h))["items"] == []


@pytest.mark.parametrize("raw", ["", "null", "[1]", "{", '"x"', "\xff"])
def test_unparseable_bodies(app_client, tenant, raw):
    resp = app_client.http.post("/v1/livecodes", headers=auth_headers(tenant), body=raw)
    assert resp.status_code == 400 and body(resp)["error"]["code"] == "invalid-json"


def test_bad_patch_changes_nothing(app_client, tenant):
    h = auth_headers(tenant)
    code = make_code(app_client, tenant)
    for patch in ({"strategy": "x"}, {"targets": []}, {"windows": [{"start": "99:00"}]},
                  {"name": ""}, {"enabled": "maybe"}):
        resp = app_client.http.patch(f"/v1/livecodes/{code['id']}", headers=h, body=json.dumps(patch))
        assert resp.status_code == 400, patch
    tid = code["targets"][0]["id"]
    for patch in ({"kind": "url"}, {"capacity": -1}, {"image": "bm90IGFuIGltYWdl"}, {"weight": 1001}):
        resp = app_client.http.patch(f"/v1/livecodes/{code['id']}/targets/{tid}", headers=h,
                                     body=json.dumps(patch))
        assert resp.status_code == 400, patch
    after = body(app_client.http.get(f"/v1/livecodes/{code['id']}", headers=h))
    assert {k: after[k] for k in ("name", "strategy", "windows", "enabled")} == \
        {k: code[k] for k in ("name", "strategy", "windows", "enabled")}
    assert after["targets"] == code["targets"]


def test_tenant_isolation(app_client, tenant, other_tenant):
    code = make_code(app_client, tenant)
    other = auth_headers(other_tenant)
    cid, tid = code["id"], code["targets"][0]["id"]
    attempts = [
        app_client.http.get(f"/v1/livecodes/{cid}", headers=other),
        app_client.http.patch(f"/v1/livecodes/{cid}", headers=other, body='{"name": "pwned"}'),
        app_client.http.delete(f"/v1/livecodes/{cid}", headers=other),
        app_client.http.post(f"/v1/livecodes/{cid}/targets", headers=other,
                             body=json.dumps({"kind": "url", "name": "x", "url": "https://evil.example"})),
        app_client.http.patch(f"/v1/livecodes/{cid}/targets/{tid}", headers=other, body='{"capacity": 1}'),
        app_client.http.delete(f"/v1/livecodes/{cid}/targets/{tid}", headers=other),
        app_client.http.get(f"/v1/livecodes/{cid}/qr", headers={**other, "Accept": "image/png"}),
        app_client.http.get(f"/v1/livecodes/{cid}/stats", headers=other),
    ]
    assert [r.status_code for r in attempts] == [404] * len(attempts)
    assert body(app_client.http.get("/v1/livecodes", headers=other))["items"] == []
    mine = body(app_client.http.get(f"/v1/livecodes/{cid}", headers=auth_headers(tenant)))
    assert mine["name"] == code["name"] and mine["targets"] == code["targets"]


def test_qr_png_svg_and_logo_decode_to_the_scan_url(app_client, tenant):
    code = make_code(app_client, tenant, logo=png_b64(120, 120, (200, 0, 0)))
    h = {**auth_headers(tenant), "Accept": "image/png"}
    png = app_client.http.get(f"/v1/livecodes/{code['id']}/qr?size=300&fg=1a2b3c", headers=h)
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    assert decode_qr(png.body) == [code["scan_url"]]
    with_logo = app_client.http.get(f"/v1/livecodes/{code['id']}/qr?size=400&logo=1", headers=h)
    assert decode_qr(with_logo.body) == [code["scan_url"]] and with_logo.body != png.body
    svg = app_client.http.get(f"/v1/livecodes/{code['id']}/qr?format=svg&size=400",
                              headers=auth_headers(tenant))
    assert svg.headers["Content-Type"] == "image/svg+xml"
    text = svg.body.decode() if isinstance(svg.body, bytes) else svg.body
    assert decode_svg(text, 400) == [code["scan_url"]]


def test_qr_is_cached_in_s3_by_parameters(app_client, tenant):
    from chalicelib import aws
    from chalicelib.settings import get_settings

    code = make_code(app_client, tenant)
    h = {**auth_headers(tenant), "Accept": "image/png"}
    for _ in range(2):
        app_client.http.get(f"/v1/livecodes/{code['id']}/qr?size=256", headers=h)
    app_client.http.get(f"/v1/livecodes/{code['id']}/qr?size=512", headers=h)
    listed = aws.client("s3").list_objects_v2(Bucket=get_settings().bucket,
                                              Prefix=f"t/{tenant['tenant_id']}/qr/")
    assert listed["KeyCount"] == 2
    tags = aws.client("s3").get_object_tagging(Bucket=get_settings().bucket, Key=listed["Contents"][0]["Key"])
    assert tags["TagSet"] == [{"Key": "yutang-cache", "Value": "render"}]  # expires via infra/ lifecycle


@pytest.mark.parametrize("query,code", [("size=64", "validation-error"), ("fg=eeeeee", "low-contrast"),
                                        ("logo=1", "logo-not-set"), ("format=bmp", "validation-error"),
                                        ("fg=ffffff&bg=000000", "inverted-colors")])
def test_bad_qr_requests(app_client, tenant, query, code):
    c = make_code(app_client, tenant)
    resp = app_client.http.get(f"/v1/livecodes/{c['id']}/qr?{query}",
                               headers={**auth_headers(tenant), "Accept": "image/png"})
    assert resp.status_code == 400 and body(resp)["error"]["code"] == code


def test_scan_json_html_and_redirect(app_client, tenant):
    code = make_code(app_client, tenant, targets=[
        {"kind": "group", "name": "<b>福利群</b>", "capacity": 1, "image": png_b64()},
        {"kind": "url", "name": "官网", "url": "https://example.com/landing"}])
    first = scan(app_client, code["slug"], accept="text/html")
    assert first.status_code == 200 and first.headers["Content-Type"].startswith("text/html")
    html = first.body.decode() if isinstance(first.body, bytes) else first.body
    assert "&lt;b&gt;福利群&lt;/b&gt;" in html and "长按识别二维码" in html
    assert "default-src 'none'" in first.headers["Content-Security-Policy"]
    second = scan(app_client, code["slug"], accept="text/html")
    assert second.status_code == 302 and second.headers["Location"] == "https://example.com/landing"
    as_json = body(scan(app_client, code["slug"]))
    assert as_json["target"]["kind"] == "url" and as_json["target"]["url"] == "https://example.com/landing"


def test_returning_visitor_is_sticky_and_consumes_no_capacity(app_client, tenant):
    code = make_code(app_client, tenant)
    first = scan(app_client, code["slug"])
    target = body(first)["target"]["id"]
    for _ in range(3):
        again = scan(app_client, code["slug"], cookie=cookie_of(first))
        assert body(again)["target"]["id"] == target and body(again)["returning"] is True
    current = body(app_client.http.get(f"/v1/livecodes/{code['id']}", headers=auth_headers(tenant)))
    assert current["targets"][0]["assigned"] == 1


def test_forged_cookie_counts_as_a_new_visitor(app_client, tenant):
    code = make_code(app_client, tenant)
    first = scan(app_client, code["slug"])
    forged = cookie_of(first)[:-3] + "abc"
    again = body(scan(app_client, code["slug"], cookie=forged))
    assert again["returning"] is False


def test_full_code_without_fallback_shows_busy_page(app_client, tenant):
    code = make_code(app_client, tenant, targets=[
        {"kind": "group", "name": "g", "capacity": 1, "image": png_b64()}])
    scan(app_client, code["slug"])
    full = scan(app_client, code["slug"], accept="text/html")
    html = full.body.decode() if isinstance(full.body, bytes) else full.body
    assert full.status_code == 200 and "活动太火爆" in html
    assert body(scan(app_client, code["slug"])) == {"target": None, "reason": "no-target-available"}


def test_fallback_visitor_is_not_counted_twice(app_client, tenant):
    code = make_code(app_client, tenant, targets=[
        {"kind": "group", "name": "g", "capacity": 1, "image": png_b64()}],
        fallback={"kind": "staff", "name": "客服", "image": png_b64()})
    scan(app_client, code["slug"])
    parked = scan(app_client, code["slug"])
    assert body(parked)["target"]["name"] == "客服"
    for _ in range(3):
        assert body(scan(app_client, code["slug"], cookie=cookie_of(parked)))["target"]["name"] == "客服"
    import app as app_module
    from devstack.drain import drain_all

    drain_all(app_module)  # a target without capacity is counted by the consumer, per batch
    current = body(app_client.http.get(f"/v1/livecodes/{code['id']}", headers=auth_headers(tenant)))
    assert current["fallback"]["assigned"] == 1


def test_disabled_code_and_unknown_slugs(app_client, tenant):
    code = make_code(app_client, tenant, enabled=False)
    html = scan(app_client, code["slug"], accept="text/html")
    assert "已停用" in (html.body.decode() if isinstance(html.body, bytes) else html.body)
    assert body(scan(app_client, code["slug"]))["reason"] == "disabled"
    sibling = code["slug"][:-1] + ("2" if code["slug"][-1] != "2" else "3")
    for slug in ["nope", "x" * 16, sibling, "%2e%2e%2fetc"]:
        resp = scan(app_client, slug)
        assert resp.status_code == 404 and body(resp)["error"]["code"] == "livecode-not-found"
    assert scan(app_client, "zzzzzzzzzzzzzzzz", accept="text/html").status_code == 404


def test_bad_ref_is_refused(app_client, tenant):
    code = make_code(app_client, tenant)
    resp = scan(app_client, code["slug"], ref="<script>")
    assert resp.status_code == 400 and body(resp)["error"]["field"] == "ref"


def test_media_route_serves_target_images(app_client, tenant):
    code = make_code(app_client, tenant)
    path = code["targets"][0]["image_url"].replace("http://testserver", "")
    resp = app_client.http.get(path, headers={"Accept": "image/png"})
    assert resp.status_code == 200 and resp.body.startswith(b"\x89PNG")
    assert "immutable" in resp.headers["Cache-Control"]
    assert app_client.http.get(path.replace("/img/", "/qr/"), headers={"Accept": "image/png"}).status_code == 404
    assert app_client.http.get(f"/m/{tenant['tenant_id']}/img/..%2f..%2fx.png").status_code == 404


def test_stats_count_scans_per_target_and_day(app_client, tenant):
    import app as app_module
    from devstack.drain import drain_all

    code = make_code(app_client, tenant)
    h = auth_headers(tenant)
    visitors = [scan(app_client, code["slug"], ref="r1") for _ in range(3)]
    scan(app_client, code["slug"], cookie=cookie_of(visitors[0]))
    drain_all(app_module)
    stats = body(app_client.http.get(f"/v1/livecodes/{code['id']}/stats", headers=h))
    assert (stats["scans"], stats["unique_visitors"], stats["assigned"], stats["ref_scans"],
            stats["wechat_scans"]) == (4, 3, 3, 3, 4)
    per_target = {t["id"]: t for t in stats["targets"]}
    group, url = code["targets"][0]["id"], code["targets"][1]["id"]
    assert per_target[group] == {"id": group, "scans": 3, "assigned": 2, "bot_scans": 0}
    assert per_target[url] == {"id": url, "scans": 1, "assigned": 1, "bot_scans": 0}
    today = datetime.now(timezone.utc).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).date()
    assert stats["days"] == [{"date": today.isoformat(), "scans": 4, "unique_visitors": 3,
                              "new_visitors": 3}]
    empty = body(app_client.http.get(f"/v1/livecodes/{code['id']}/stats?from=2020-01-01&to=2020-01-31",
                                     headers=h))
    assert empty["scans"] == 0 and empty["days"] == []


@pytest.mark.parametrize("query", ["from=yesterday", "from=2026-02-01&to=2026-01-01",
                                   "from=2020-01-01&to=2026-01-01", "to=2026-01-01T10:00:00"])
def test_bad_stats_ranges(app_client, tenant, query):
    code = make_code(app_client, tenant)
    resp = app_client.http.get(f"/v1/livecodes/{code['id']}/stats?{query}", headers=auth_headers(tenant))
    assert resp.status_code == 400


# ---- auto-tags ----------------------------------------------------------------------------------

def test_tags_are_normalised_shown_patched_and_cleared(app_client, tenant):
    h = auth_headers(tenant)
    code = make_code(app_client, tenant, tags=["  VIP ", "双11", "ｖｉｐ", "Offline  Poster"])
    assert code["tags"] == ["vip", "双11", "offline poster"]
    assert body(app_client.http.get(f"/v1/livecodes/{code['id']}", headers=h))["tags"] == code["tags"]
    patched = body(app_client.http.patch(f"/v1/livecodes/{code['id']}", headers=h,
                                         body=json.dumps({"tags": ["新客"]})))
    assert patched["tags"] == ["新客"]
    assert body(app_client.http.patch(f"/v1/livecodes/{code['id']}", headers=h,
                                      body=json.dumps({"name": "n"})))["tags"] == ["新客"]
    for cleared in ([], None):
        app_client.http.patch(f"/v1/livecodes/{code['id']}", headers=h, body=json.dumps({"tags": ["x"]}))
        resp = app_client.http.patch(f"/v1/livecodes/{code['id']}", headers=h,
                                     body=json.dumps({"tags": cleared}))
        assert body(resp)["tags"] == []
    assert make_code(app_client, tenant)["tags"] == []


@pytest.mark.parametrize("tags,code", [
    ([f"t{i}" for i in range(21)], "too-many-tags"), (["a,b"], "invalid-tag"), (["a#b"], "invalid-tag"),
    ([""], "invalid-tag"), (["x" * 65], "invalid-tag"), ([1], "validation-error"),
    ("vip", "validation-error")])
def test_bad_tags_are_a_400_and_change_nothing(app_client, tenant, tags, code):
    h = auth_headers(tenant)
    payload = {"name": "x", "channel": "c", "tags": tags}
    resp = app_client.http.post("/v1/livecodes", headers=h, body=json.dumps(payload))
    assert resp.status_code == 400 and body(resp)["error"]["code"] == code
    assert body(resp)["error"]["field"] == "tags"
    assert body(app_client.http.get("/v1/livecodes", headers=h))["items"] == []
    made = make_code(app_client, tenant, tags=["ok"])
    resp = app_client.http.patch(f"/v1/livecodes/{made['id']}", headers=h, body=json.dumps({"tags": tags}))
    assert resp.status_code == 400 and body(resp)["error"]["code"] == code
    assert body(app_client.http.get(f"/v1/livecodes/{made['id']}", headers=h))["tags"] == ["ok"]


def test_tags_stay_with_their_tenant(app_client, tenant, other_tenant):
    code = make_code(app_client, tenant, tags=["vip"])
    other = auth_headers(other_tenant)
    resp = app_client.http.patch(f"/v1/livecodes/{code['id']}", headers=other,
                                 body=json.dumps({"tags": ["pwned"]}))
    assert resp.status_code == 404
    assert body(app_client.http.get(f"/v1/livecodes/{code['id']}",
                                    headers=auth_headers(tenant)))["tags"] == ["vip"]


def test_welcome_content_must_be_the_tenants_own(app_client, tenant, other_tenant):
    """welcome.content_id is checked like a campaign's message.content_id (issue 12)."""
    import json as _json

    theirs = app_client.http.post("/v1/contents", headers=auth_headers(other_tenant), body=_json.dumps(
        {"type": "article", "title": "别人的", "url": "https://example.com/a", "tags": []}))
    assert theirs.status_code == 201, theirs.body
    their_id = _json.loads(theirs.body)["id"]
    ours = app_client.http.post("/v1/contents", headers=auth_headers(tenant), body=_json.dumps(
        {"type": "article", "title": "我的", "url": "https://example.com/b", "tags": []}))
    our_id = _json.loads(ours.body)["id"]
    body_ = {"name": "n", "channel": "c", "strategy": "fill",
             "targets": [{"kind": "url", "name": "a", "url": "https://example.com"}]}
    h = auth_headers(tenant)
    resp = app_client.http.post("/v1/livecodes", headers=h, body=_json.dumps(
        {**body_, "welcome": {"text": "hi", "content_id": their_id}}))
    assert resp.status_code == 400 and _json.loads(resp.body)["error"]["code"] == "content-not-found"
    created = app_client.http.post("/v1/livecodes", headers=h, body=_json.dumps(
        {**body_, "welcome": {"text": "hi", "content_id": our_id}}))
    assert created.status_code == 201, created.body
    code_id = _json.loads(created.body)["id"]
    resp = app_client.http.patch(f"/v1/livecodes/{code_id}", headers=h, body=_json.dumps(
        {"welcome": {"content_id": their_id}}))
    assert resp.status_code == 400 and _json.loads(resp.body)["error"]["field"] == "welcome.content_id"
