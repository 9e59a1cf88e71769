"""`make dev` with no internet: 小程序码 and URL Links from its fake WeChat (a real PNG that decodes
to the scene; WeChat asked once), the mini-program resolving the scene, and entry domains (the
entry answers a 302 to the current domain; blocking one moves the next entry)."""
import json
import re
import urllib.error
import urllib.request

import pytest

from tests.e2e.conftest import DEV_KEY
from tests.support.images import decode_qr

pytestmark = pytest.mark.e2e


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def raw(stack, method, path, body=None, headers=None):
    """(status, headers, body) without following redirects."""
    req = urllib.request.Request(stack.base + path, method=method, headers={
        "Authorization": f"Bearer {DEV_KEY}", "Content-Type": "application/json", **(headers or {})},
        data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.build_opener(_NoRedirect).open(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def api(stack, method, path, body=None, headers=None):
    status, _, data = raw(stack, method, path, body, headers)
    return status, (json.loads(data) if data else {})


def fake_state(stack) -> dict:
    base = re.findall(r"WeChat API   (http://127\.0\.0\.1:\d+)", stack.log)[-1]
    with urllib.request.urlopen(base + "/fake/wxa/state", timeout=10) as resp:
        return json.loads(resp.read())


def test_mini_program_codes_links_and_scenes_on_the_dev_stack(dev_stack):
    status, code = api(dev_stack, "POST", "/v1/livecodes", {
        "name": "mp", "channel": "mp", "targets": [{"kind": "url", "name": "u",
                                                    "url": "https://example.com/"}]})
    assert status == 201, code
    path = f"/v1/livecodes/{code['id']}/wxacode?page=pages/scan/index"
    status, headers, image = raw(dev_stack, "GET", path, headers={"Accept": "image/png"})
    assert status == 200 and headers["Content-Type"] == "image/png", image[:200]
    (text,) = decode_qr(image)
    assert text.endswith(f":release:pages/scan/index?scene=L{code['slug']}")
    assert raw(dev_stack, "GET", path, headers={"Accept": "image/png"})[2] == image
    assert fake_state(dev_stack)["calls"]["/wxa/getwxacodeunlimit"] == 1
    status, link = api(dev_stack, "GET", f"/v1/livecodes/{code['id']}/mp-link?type=scheme")
    assert status == 200 and link["link"].startswith("weixin://dl/business/?t="), link
    assert api(dev_stack, "GET", f"/v1/livecodes/{code['id']}/mp-link?type=scheme")[1]["reused"]
    status, login = api(dev_stack, "POST", "/mp/v1/login",
                        {"tenant": code["slug"][:8], "code": "e2e-alice:1"})
    assert status == 200, login
    status, scene = api(dev_stack, "GET", f"/mp/v1/scene/L{code['slug']}",
                        headers={"Authorization": f"Bearer {login['token']}"})
    assert status == 200 and scene["slug"] == code["slug"], scene


def test_entry_domains_on_the_dev_stack(dev_stack):
    status, code = api(dev_stack, "POST", "/v1/livecodes", {
        "name": "entry", "channel": "entry", "targets": [{"kind": "url", "name": "u",
                                                          "url": "https://example.com/"}]})
    assert status == 201, code
    entry = code["entry_url"].replace(dev_stack.base, "")
    for domain in ("a.example.cn", "b.example.cn"):
        assert api(dev_stack, "POST", "/v1/entry-domains", {"domain": domain})[0] == 201
    status, headers, _ = raw(dev_stack, "GET", entry + "?ref=r1", headers={"Authorization": ""})
    assert status == 302 and headers["Location"] == f"http://a.example.cn/s/{code['slug']}?ref=r1"
    assert api(dev_stack, "PATCH", "/v1/entry-domains/a.example.cn", {"status": "blocked"})[0] == 200
    status, headers, _ = raw(dev_stack, "GET", entry, headers={"Authorization": ""})
    assert status == 302 and headers["Location"] == f"http://b.example.cn/s/{code['slug']}"
    status, headers, image = raw(dev_stack, "GET", f"/v1/livecodes/{code['id']}/qr?size=256",
                                 headers={"Accept": "image/png"})
    assert decode_qr(image) == [code["entry_url"]]
