"""Poster templates through the API: create, validate, list, patch, preview, delete, isolation."""
import json

import pytest

from tests.conftest import auth_headers
from tests.support.fission import LAYOUT, background_b64, body, make_task, make_template, post
from tests.support.images import decode_qr, png_b64


def assert_error(resp, status, code=None, field=None):
    assert resp.status_code == status, resp.body
    err = body(resp)["error"]
    assert err["message"]
    if code:
        assert err["code"] == code, err
    if field:
        assert err.get("field") == field, err


def test_create_get_list_template(app_client, tenant):
    created = make_template(app_client, tenant)
    assert created["width"] == 1080 and created["layout"]["qr"] == LAYOUT["qr"]
    assert created["layout"]["avatar"]["shape"] == "circle"
    h = auth_headers(tenant)
    got = body(app_client.http.get(f"/v1/poster-templates/{created['id']}", headers=h))
    assert got == created
    listed = body(app_client.http.get("/v1/poster-templates", headers=h))
    assert [t["id"] for t in listed["items"]] == [created["id"]]


def test_preview_is_a_jpeg_whose_qr_decodes(app_client, tenant):
    created = make_template(app_client, tenant)
    resp = app_client.http.get(f"/v1/poster-templates/{created['id']}/preview",
                               headers={**auth_headers(tenant), "Accept": "image/jpeg"})
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/jpeg"
    assert resp.body[:3] == b"\xff\xd8\xff"
    assert decode_qr(resp.body) == [f"http://testserver/s/{'x' * 16}?ref={'x' * 34}"]


BAD_LAYOUTS = [
    ({"qr": {"x": 900, "y": 100, "size": 400}}, "layout-outside-canvas", "layout.qr"),
    ({"qr": {"x": 0, "y": 0, "size": 100}}, "validation-error", "layout.qr.size"),
    ({"qr": {"x": 0, "y": 0, "size": 400}, "avatar": {"x": 100, "y": 100, "size": 100}},
     "layout-overlaps-qr", "layout.avatar"),
    ({"qr": {"x": 0, "y": 0, "size": 400},
      "nickname": {"x": 500, "y": 10, "font_size": 40, "max_width": 700}},
     "layout-outside-canvas", "layout.nickname"),
    ({"qr": {"x": 0, "y": 0, "size": 400},
      "nickname": {"x": 500, "y": 10, "font_size": 40, "max_width": 300, "color": "blue"}},
     "validation-error", "layout.nickname.color"),
    ({"qr": {"x": 0, "y": 0, "size": 400}, "avatar": {"x": 500, "y": 0, "size": 100, "shape": "star"}},
     "validation-error", "shape"),
    ({"qr": {"x": 0, "y": 0, "size": 400}, "texts": [{"x": 0, "y": 500, "font_size": 20,
                                                      "max_width": 100}]},
     "validation-error", "layout.texts[0].text"),
    ({"qr": {"x": 0, "y": 0, "size": 400}, "extra": 1}, "validation-error", "extra"),
    ({"avatar": {"x": 0, "y": 0, "size": 100}}, "validation-error", "layout.qr"),
    ("not an object", "validation-error", "layout"),
]


@pytest.mark.parametrize("layout,code,field", BAD_LAYOUTS)
def test_bad_layouts_are_refused_and_nothing_is_stored(app_client, tenant, layout, code, field):
    resp = post(app_client, tenant, "/v1/poster-templates",
                {"name": "x", "background": png_b64(), "width": 1080, "height": 1920, "layout": layout})
    assert_error(resp, 400, code, field)
    listed = body(app_client.http.get("/v1/poster-templates", headers=auth_headers(tenant)))
    assert listed["items"] == []


@pytest.mark.parametrize("payload,status,code", [
    ({"background": "bm90IGFuIGltYWdl"}, 400, "invalid-image"),
    ({"background": "%%%"}, 400, "validation-error"),
    ({"width": 100}, 400, "validation-error"),
    ({"height": "tall"}, 400, "validation-error"),
    ({"name": ""}, 400, "validation-error"),
    ({"colour": 1}, 400, "validation-error"),
])
def test_bad_template_fields(app_client, tenant, payload, status, code):
    full = {"name": "x", "background": png_b64(), "width": 1080, "height": 1920, "layout": LAYOUT,
            **payload}
    assert_error(post(app_client, tenant, "/v1/poster-templates", full), status, code)


def test_missing_body_and_fields(app_client, tenant):
    h = auth_headers(tenant)
    assert_error(app_client.http.post("/v1/poster-templates", headers=h, body=""), 400, "invalid-json")
    assert_error(post(app_client, tenant, "/v1/poster-templates", {"name": "x"}), 400)


def test_patch_changes_layout_and_name(app_client, tenant):
    created = make_template(app_client, tenant)
    new_layout = {**LAYOUT, "qr": {"x": 100, "y": 1300, "size": 500}}
    resp = app_client.http.patch(f"/v1/poster-templates/{created['id']}", headers=auth_headers(tenant),
                                 body=json.dumps({"name": "新海报", "layout": new_layout}))
    assert resp.status_code == 200, resp.body
    assert body(resp)["name"] == "新海报" and body(resp)["layout"]["qr"]["size"] == 500
    bad = app_client.http.patch(f"/v1/poster-templates/{created['id']}", headers=auth_headers(tenant),
                                body=json.dumps({"width": 400}))
    assert_error(bad, 400, "layout-outside-canvas")
    got = body(app_client.http.get(f"/v1/poster-templates/{created['id']}", headers=auth_headers(tenant)))
    assert got["width"] == 1080 and got["name"] == "新海报"


def test_delete_refused_while_a_task_uses_it(app_client, tenant):
    template = make_template(app_client, tenant)
    task = make_task(app_client, tenant, template_id=template["id"])
    h = auth_headers(tenant)
    assert_error(app_client.http.delete(f"/v1/poster-templates/{template['id']}", headers=h), 409,
                 "template-in-use")
    assert app_client.http.delete(f"/v1/fission-tasks/{task['id']}", headers=h).status_code == 204
    assert app_client.http.delete(f"/v1/poster-templates/{template['id']}", headers=h).status_code == 204
    assert_error(app_client.http.get(f"/v1/poster-templates/{template['id']}", headers=h), 404,
                 "template-not-found")


def test_other_tenant_cannot_see_or_change_templates(app_client, tenant, other_tenant):
    created = make_template(app_client, tenant)
    hb = auth_headers(other_tenant)
    path = f"/v1/poster-templates/{created['id']}"
    assert_error(app_client.http.get(path, headers=hb), 404, "template-not-found")
    assert_error(app_client.http.patch(path, headers=hb, body='{"name": "hijack"}'), 404)
    assert_error(app_client.http.delete(path, headers=hb), 404)
    assert_error(app_client.http.get(path + "/preview", headers=hb), 404)
    assert body(app_client.http.get("/v1/poster-templates", headers=hb))["items"] == []
    mine = body(app_client.http.get(path, headers=auth_headers(tenant)))
    assert mine["name"] == created["name"]


def test_background_is_fitted_to_the_canvas(app_client, tenant):
    created = make_template(app_client, tenant, background=background_b64(600, 600))
    resp = app_client.http.get(f"/v1/poster-templates/{created['id']}/preview",
                               headers={**auth_headers(tenant), "Accept": "image/jpeg"})
    import io

    from PIL import Image

    assert Image.open(io.BytesIO(resp.body)).size == (1080, 1920)


def test_a_changed_template_reaches_its_tasks_posters_through_the_events_queue(app_client, tenant):
    """GIVEN a participant whose poster was rendered (and cached) from a template, WHEN the
    template's size and layout change, THEN posters publishes ``template_changed`` (it calls no
    fission code) and, once the events consumer ran, the participant's poster is the new one."""
    import io

    from PIL import Image

    from tests.support.wecom import drain, queued_types

    template = make_template(app_client, tenant)
    task = make_task(app_client, tenant, template_id=template["id"])
    p = body(post(app_client, tenant, f"/v1/fission-tasks/{task['id']}/participants",
                  {"nickname": "小明", "openid": "o-poster"}))
    path = p["poster_url"].replace("http://testserver", "")

    def poster_size():
        resp = app_client.http.get(path, headers={"Accept": "image/jpeg"})
        assert resp.status_code == 200, resp.body
        return Image.open(io.BytesIO(resp.body)).size

    assert poster_size() == (1080, 1920)
    drain()  # nothing else waiting
    resp = app_client.http.patch(f"/v1/poster-templates/{template['id']}", headers=auth_headers(tenant),
                                 body=json.dumps({"width": 720, "height": 1280,
                                                  "layout": {"qr": {"x": 160, "y": 700, "size": 400}}}))
    assert resp.status_code == 200, resp.body
    assert queued_types() == ["template_changed"]
    assert poster_size() == (1080, 1920)  # the task still names the old rendering's cached poster
    assert drain() == 1
    assert poster_size() == (720, 1280)
    assert decode_qr(app_client.http.get(path, headers={"Accept": "image/jpeg"}).body) == [p["invite_url"]]
    # a rename changes no rendering: nothing is published
    app_client.http.patch(f"/v1/poster-templates/{template['id']}", headers=auth_headers(tenant),
                          body=json.dumps({"name": "改名"}))
    assert queued_types() == []
