"""小程序码 and URL Links/Schemes of live codes and fission participants, through the API against
the fake WeChat: the image decodes to the scene, S3 caching asks WeChat once, expired tokens are
refreshed, WeChat's errors keep their errcode, links are kept and reused, scenes resolve for the
mini-program of the same tenant only."""
import json
from datetime import timedelta

import pytest

from chalicelib import clock
from devstack.fake_wechat import DEFAULT_APPID
from tests.conftest import auth_headers
from tests.support.api import assert_error, body
from tests.support.fission import make_livecode, make_task, post
from tests.support.images import decode_qr
from tests.support.wechat import fake_wechat  # noqa: F401

WXACODE = "/wxa/getwxacodeunlimit"


def get(client, tenant, path):
    return client.http.get(path, headers={**auth_headers(tenant), "Accept": "image/png"})


def participant(client, tenant):
    task = make_task(client, tenant)
    resp = post(client, tenant, f"/v1/fission-tasks/{task['id']}/participants",
                {"nickname": "张伟", "openid": "o-zhang"})
    assert resp.status_code == 201, resp.body
    return task, body(resp)


def mp_token(client, tenant, who="alice"):
    resp = client.http.post("/mp/v1/login", headers={"Content-Type": "application/json"},
                            body=json.dumps({"tenant": tenant["tenant_id"], "code": who}))
    assert resp.status_code == 200, resp.body
    return {"Authorization": f"Bearer {body(resp)['token']}"}


def test_livecode_wxacode_decodes_to_its_scene_and_is_asked_of_wechat_once(
        fake_wechat, app_client, tenant):  # noqa: F811
    code = make_livecode(app_client, tenant)
    path = f"/v1/livecodes/{code['id']}/wxacode?page=pages/scan/index&width=300"
    first = get(app_client, tenant, path)
    assert first.status_code == 200, first.body
    assert first.headers["Content-Type"] == "image/png"
    scene = "L" + code["slug"]
    assert decode_qr(first.body) == [f"wxa:{DEFAULT_APPID}:release:pages/scan/index?scene={scene}"]
    again = get(app_client, tenant, path)
    assert again.body == first.body
    assert fake_wechat.wxa.calls[WXACODE] == 1  # the second answer came from S3
    assert fake_wechat.wxa.calls["/cgi-bin/stable_token"] == 1
    other = get(app_client, tenant, f"/v1/livecodes/{code['id']}/wxacode?env_version=trial")
    assert decode_qr(other.body) == [f"wxa:{DEFAULT_APPID}:trial:?scene={scene}"]
    assert fake_wechat.wxa.calls[WXACODE] == 2  # other options: another object


def test_participant_wxacode_carries_a_32_character_scene(fake_wechat, app_client, tenant):  # noqa: F811
    task, p = participant(app_client, tenant)
    resp = get(app_client, tenant,
               f"/v1/fission-tasks/{task['id']}/participants/{p['participant_id']}/wxacode")
    assert resp.status_code == 200, resp.body
    (text,) = decode_qr(resp.body)
    scene = text.split("scene=", 1)[1]
    assert len(scene) == 32 and scene.startswith("P" + tenant["tenant_id"] + task["id"])
    assert p["ref"].startswith(scene[1:-5]) and p["ref"][26:].startswith(scene[-5:])


def test_an_expired_access_token_is_refreshed_once(fake_wechat, app_client, tenant):  # noqa: F811
    code = make_livecode(app_client, tenant)
    assert get(app_client, tenant, f"/v1/livecodes/{code['id']}/wxacode").status_code == 200
    fake_wechat.wxa.expire_tokens()
    resp = get(app_client, tenant, f"/v1/livecodes/{code['id']}/wxacode?width=500")
    assert resp.status_code == 200, resp.body
    assert fake_wechat.wxa.calls["/cgi-bin/stable_token"] == 2
    assert fake_wechat.wxa.calls[WXACODE] == 3  # the refused call and its retry


@pytest.mark.parametrize("errcode,status,code", [
    (41030, 502, "wechat-rejected"), (45009, 503, "wechat-unavailable"), (-1, 503, "wechat-unavailable")])
def test_wechat_errors_keep_their_errcode_and_nothing_is_cached(
        fake_wechat, app_client, tenant, errcode, status, code):  # noqa: F811
    lc = make_livecode(app_client, tenant)
    fake_wechat.wxa.fail(WXACODE, errcode)
    resp = get(app_client, tenant, f"/v1/livecodes/{lc['id']}/wxacode")
    assert_error(resp, status, code)
    assert body(resp)["error"]["errcode"] == errcode
    assert get(app_client, tenant, f"/v1/livecodes/{lc['id']}/wxacode").status_code == 200


def test_an_unpublished_page_is_wechats_41030_unless_check_path_is_off(
        fake_wechat, app_client, tenant):  # noqa: F811
    lc = make_livecode(app_client, tenant)
    resp = get(app_client, tenant, f"/v1/livecodes/{lc['id']}/wxacode?page=draft/x")
    assert_error(resp, 502, "wechat-rejected")
    assert body(resp)["error"]["errcode"] == 41030
    ok = get(app_client, tenant, f"/v1/livecodes/{lc['id']}/wxacode?page=draft/x&check_path=false")
    assert ok.status_code == 200


def test_no_mini_program_is_a_409_before_any_wechat_call(app_client, tenant):
    lc = make_livecode(app_client, tenant)
    assert_error(get(app_client, tenant, f"/v1/livecodes/{lc['id']}/wxacode"), 409,
                 "mp-not-configured")
    assert_error(get(app_client, tenant, f"/v1/livecodes/{lc['id']}/mp-link"), 409,
                 "mp-not-configured")


@pytest.mark.parametrize("query,field", [
    ("page=/pages/x", "page"), ("page=pages/x?a=1", "page"), ("width=279", "width"),
    ("width=1281", "width"), ("env_version=beta", "env_version"), ("check_path=maybe", "check_path"),
    ("scene=x", "scene")])
def test_bad_options_are_400(fake_wechat, app_client, tenant, query, field):  # noqa: F811
    lc = make_livecode(app_client, tenant)
    resp = get(app_client, tenant, f"/v1/livecodes/{lc['id']}/wxacode?{query}")
    assert resp.status_code == 400, resp.body
    assert body(resp)["error"]["field"] == field
    assert fake_wechat.wxa.calls[WXACODE] == 0


def test_other_tenants_codes_and_participants_are_404(fake_wechat, app_client, tenant, other_tenant):  # noqa: F811
    lc = make_livecode(app_client, tenant)
    task, p = participant(app_client, tenant)
    assert_error(get(app_client, other_tenant, f"/v1/livecodes/{lc['id']}/wxacode"), 404,
                 "livecode-not-found")
    assert_error(get(app_client, other_tenant, f"/v1/fission-tasks/{task['id']}/participants/"
                                               f"{p['participant_id']}/mp-link"), 404)


def test_links_are_kept_and_reused_while_half_their_life_is_left(
        fake_wechat, app_client, tenant, monkeypatch):  # noqa: F811
    lc = make_livecode(app_client, tenant)
    path = f"/v1/livecodes/{lc['id']}/mp-link?expire_days=10"
    first = body(get(app_client, tenant, path))
    assert first["type"] == "url_link" and first["link"].startswith("https://wxaurl.cn/")
    assert first["query"] == "scene=L" + lc["slug"] and not first["reused"]
    again = body(get(app_client, tenant, path))
    assert again["link"] == first["link"] and again["reused"]
    assert fake_wechat.wxa.calls["/wxa/generate_urllink"] == 1
    scheme = body(get(app_client, tenant, f"/v1/livecodes/{lc['id']}/mp-link?type=scheme"))
    assert scheme["link"].startswith("weixin://dl/business/?t=")
    now = clock.now()
    monkeypatch.setattr("chalicelib.clock.now", lambda: now + timedelta(days=5, minutes=1))
    later = body(get(app_client, tenant, path))
    assert later["link"] != first["link"] and not later["reused"]
    assert fake_wechat.wxa.calls["/wxa/generate_urllink"] == 2


def test_participant_link_and_bad_link_options(fake_wechat, app_client, tenant):  # noqa: F811
    task, p = participant(app_client, tenant)
    base = f"/v1/fission-tasks/{task['id']}/participants/{p['participant_id']}/mp-link"
    link = body(get(app_client, tenant, base + "?type=scheme&page=pages/invite/index"))
    assert link["page"] == "pages/invite/index" and len(link["query"]) == len("scene=") + 32
    for query in ("type=sms", "expire_days=0", "expire_days=31"):
        assert get(app_client, tenant, f"{base}?{query}").status_code == 400


def test_the_mini_program_resolves_scenes_of_its_own_tenant_only(
        fake_wechat, app_client, tenant, other_tenant):  # noqa: F811
    lc = make_livecode(app_client, tenant)
    task, p = participant(app_client, tenant)
    me = mp_token(app_client, tenant)
    answer = body(app_client.http.get(f"/mp/v1/scene/L{lc['slug']}", headers=me))
    assert answer["kind"] == "livecode" and answer["slug"] == lc["slug"] and answer["ref"] is None
    scene = "P" + p["ref"][:31]
    answer = body(app_client.http.get(f"/mp/v1/scene/{scene}", headers=me))
    assert answer["kind"] == "participant" and answer["ref"] == p["ref"]
    assert answer["participant_id"] == p["participant_id"] and answer["task_id"] == task["id"]
    forged = scene[:-1] + ("2" if scene[-1] != "2" else "3")
    for bad in (forged, "L" + tenant["tenant_id"] + "zzzzzzzz", "X" + lc["slug"], "L" + lc["slug"][:-1]):
        assert_error(app_client.http.get(f"/mp/v1/scene/{bad}", headers=me), 404, "scene-not-found")
    stranger = mp_token(app_client, other_tenant, "bob")
    assert_error(app_client.http.get(f"/mp/v1/scene/L{lc['slug']}", headers=stranger), 404,
                 "scene-not-found")
    assert_error(app_client.http.get(f"/mp/v1/scene/L{lc['slug']}"), 401)
