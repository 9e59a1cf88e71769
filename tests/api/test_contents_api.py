"""Content library over HTTP: CRUD, tag queries with cursors, error shapes, tenant isolation."""
import json

import pytest

from tests.conftest import auth_headers
from tests.support.api import assert_error, body
from tests.support.images import png_b64


def create(client, tenant, **fields):
    payload = {"type": "text", "title": "t", "body": "b", **fields}
    resp = client.http.post("/v1/contents", headers=auth_headers(tenant), body=json.dumps(payload))
    assert resp.status_code == 201, resp.body
    return body(resp)


def test_crud(app_client, tenant):
    h = auth_headers(tenant)
    item = create(app_client, tenant, tags=["Sale", "新品"])
    assert item["tags"] == ["sale", "新品"] and item["counters"]["views"] == 0
    assert body(app_client.http.get(f"/v1/contents/{item['id']}", headers=h)) == item
    resp = app_client.http.patch(f"/v1/contents/{item['id']}", headers=h,
                                 body=json.dumps({"title": "new", "tags": ["x"]}))
    assert body(resp)["title"] == "new" and body(resp)["tags"] == ["x"]
    assert app_client.http.delete(f"/v1/contents/{item['id']}", headers=h).status_code == 204
    assert_error(app_client.http.get(f"/v1/contents/{item['id']}", headers=h), 404,
                 "content-not-found")


def test_every_type(app_client, tenant):
    import base64

    mp4 = base64.b64encode(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64).decode()
    mp3 = base64.b64encode(b"ID3\x04" + b"\x00" * 64).decode()
    pdf = base64.b64encode(b"%PDF-1.4\n" + b"0" * 64).decode()
    for fields in ({"type": "image", "media": {"data": png_b64()}},
                   {"type": "video", "media": {"data": mp4}}, {"type": "audio", "media": {"data": mp3}},
                   {"type": "file", "media": {"data": pdf, "filename": "价目表.pdf"}},
                   {"type": "article", "url": "https://example.com/a"},
                   {"type": "link", "url": "https://example.com/b"},
                   {"type": "miniprogram", "card": {"appid": "wx0123456789abcdef",
                                                    "path": "pages/index/index"}}):
        item = create(app_client, tenant, **fields)
        assert item["type"] == fields["type"]
    listed = body(app_client.http.get("/v1/contents?type=file", headers=auth_headers(tenant)))
    assert listed["items"][0]["media"]["content_type"] == "application/pdf"


def test_query_and_cursor_pages(app_client, tenant):
    h = auth_headers(tenant)
    ids = [create(app_client, tenant, tags=["a"] + (["b"] if i % 2 else []))["id"] for i in range(7)]
    create(app_client, tenant, tags=["a", "c"])
    seen, cursor = [], None
    while True:
        url = "/v1/contents?tags=a,b&match=all&not=c&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = body(app_client.http.get(url, headers=h))
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [i for n, i in reversed(list(enumerate(ids))) if n % 2]
    anyof = body(app_client.http.get("/v1/contents?tags=b,c&match=any&limit=100", headers=h))
    assert len(anyof["items"]) == 4 and anyof["next_cursor"] is None


@pytest.mark.parametrize("query,field", [
    ("match=some", "match"), ("type=poster", "type"), ("limit=0", "limit"), ("limit=x", "limit"),
    ("cursor=abc.def", "cursor"), ("tags=a%23b", "tags"), ("color=red", "color")])
def test_bad_queries(app_client, tenant, query, field):
    resp = app_client.http.get(f"/v1/contents?{query}", headers=auth_headers(tenant))
    assert_error(resp, 400)
    assert body(resp)["error"]["field"] == field


@pytest.mark.parametrize("payload,status", [
    ("", 400), ("{", 400), ("[]", 400), ('{"type": "text"}', 400),
    ('{"type": "text", "title": "x", "body": "b", "tags": "a"}', 400),
    ('{"type": "text", "title": "x", "body": "b", "tags": [1]}', 400),
    ('{"type": "link", "title": "x", "url": "ftp://x"}', 400),
    ('{"type": "image", "title": "x", "media": {"data": "!!"}}', 400),
    ('{"type": "text", "title": "x", "body": "b", "media": {"data": "AA=="}}', 400)])
def test_bad_bodies_change_nothing(app_client, tenant, payload, status):
    h = auth_headers(tenant)
    assert_error(app_client.http.post("/v1/contents", headers=h, body=payload), status)
    assert body(app_client.http.get("/v1/contents", headers=h))["items"] == []


def test_oversized_media_is_413(app_client, tenant):
    import base64

    big = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * 1024 * 1024)).decode()
    resp = app_client.http.post("/v1/contents", headers=auth_headers(tenant), body=json.dumps(
        {"type": "image", "title": "x", "media": {"data": big}}))
    assert_error(resp, 413, "media-too-large")


def test_patch_errors(app_client, tenant):
    h = auth_headers(tenant)
    item = create(app_client, tenant, tags=["a"])
    for payload in ('{"type": "link"}', '{"title": ""}', '{"nope": 1}', '{"card": {}}'):
        assert_error(app_client.http.patch(f"/v1/contents/{item['id']}", headers=h, body=payload), 400)
    assert body(app_client.http.get(f"/v1/contents/{item['id']}", headers=h)) == item
    assert_error(app_client.http.patch("/v1/contents/nope", headers=h, body='{"title": "x"}'), 404)


def test_tenant_isolation(app_client, tenant, other_tenant):
    mine = create(app_client, tenant, tags=["a"])
    theirs = auth_headers(other_tenant)
    for method in ("get", "delete"):
        assert_error(getattr(app_client.http, method)(f"/v1/contents/{mine['id']}", headers=theirs), 404)
    assert_error(app_client.http.patch(f"/v1/contents/{mine['id']}", headers=theirs,
                                       body='{"title": "x"}'), 404)
    assert body(app_client.http.get("/v1/contents?tags=a", headers=theirs))["items"] == []
    mine_cursor_page = body(app_client.http.get("/v1/contents?limit=1", headers=auth_headers(tenant)))
    create(app_client, tenant)
    cursor = body(app_client.http.get("/v1/contents?limit=1", headers=auth_headers(tenant)))["next_cursor"]
    assert_error(app_client.http.get(f"/v1/contents?limit=1&cursor={cursor}", headers=theirs), 400,
                 "invalid-cursor")
    assert mine_cursor_page["items"][0]["id"] == mine["id"]


def test_needs_a_key(app_client):
    assert_error(app_client.http.get("/v1/contents"), 401)
