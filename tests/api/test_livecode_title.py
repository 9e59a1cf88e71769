"""The landing page shows a live code's public ``title`` or a neutral text, never its internal
``name`` (issue 12)."""
import json

from chalicelib.livecodes.landing import DEFAULT_TITLE
from tests.conftest import auth_headers
from tests.support.api import body
from tests.support.images import png_b64

INTERNAL = "R11 企微客服 内部"


def create(app_client, tenant, **extra):
    resp = app_client.http.post("/v1/livecodes", headers=auth_headers(tenant), body=json.dumps({
        "name": INTERNAL, "channel": "c", "strategy": "fill",
        "targets": [{"kind": "group", "name": "福利群", "image": png_b64(300, 300)}], **extra}))
    assert resp.status_code == 201, resp.body
    return body(resp)


def page(app_client, code):
    resp = app_client.http.get(f"/s/{code['slug']}", headers={"Accept": "text/html"})
    assert resp.status_code == 200
    return resp.body.decode()


def test_the_internal_name_never_reaches_the_page(app_client, tenant):
    code = create(app_client, tenant)
    assert code["title"] is None
    html = page(app_client, code)
    assert INTERNAL not in html and DEFAULT_TITLE in html


def test_the_public_title_is_shown_and_can_be_changed_or_cleared(app_client, tenant):
    code = create(app_client, tenant, title="双11 福利群")
    assert code["title"] == "双11 福利群" and "双11 福利群" in page(app_client, code)
    h = auth_headers(tenant)
    patched = body(app_client.http.patch(f"/v1/livecodes/{code['id']}", headers=h,
                                         body=json.dumps({"title": "新标题"})))
    assert patched["title"] == "新标题" and patched["name"] == INTERNAL
    cleared = body(app_client.http.patch(f"/v1/livecodes/{code['id']}", headers=h,
                                         body=json.dumps({"title": None})))
    assert cleared["title"] is None
    html = page(app_client, code)
    assert DEFAULT_TITLE in html and INTERNAL not in html and "新标题" not in html


def test_an_unavailable_page_does_not_show_the_name_either(app_client, tenant):
    code = create(app_client, tenant)
    app_client.http.patch(f"/v1/livecodes/{code['id']}", headers=auth_headers(tenant),
                          body=json.dumps({"enabled": False}))
    html = app_client.http.get(f"/s/{code['slug']}").body.decode()
    assert INTERNAL not in html
