"""`make dev` as a newcomer meets it: it starts, prints what to try, serves the seeded demo code,
drives queue and schedule handlers, keeps data across restarts and stops cleanly on Ctrl-C."""
import json
import time
import urllib.request

import pytest

from tests.e2e.conftest import ADMIN_KEY, DEV_KEY, DevStack

pytestmark = pytest.mark.e2e


def test_banner_tells_what_to_try(dev_stack):
    log = dev_stack.log
    assert DEV_KEY in log and ADMIN_KEY in log and "curl" in log
    assert f"{dev_stack.base}/s/" in log


def test_demo_code_scans_and_stats_arrive_through_the_drain(dev_stack):
    status, _, raw = dev_stack.request("GET", "/v1/livecodes")
    demo = next(c for c in json.loads(raw)["items"] if c["channel"] == "demo")
    status, _, raw = dev_stack.request("GET", f"/s/{demo['slug']}", key=None, headers={
        "Accept": "application/json", "User-Agent": "Mozilla/5.0 (iPhone) MicroMessenger/8.0"})
    assert status == 200 and json.loads(raw)["target"]["kind"] == "group"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        _, _, raw = dev_stack.request("GET", f"/v1/livecodes/{demo['id']}/stats")
        if json.loads(raw)["scans"] >= 1:
            break
        time.sleep(0.5)
    assert json.loads(raw)["scans"] >= 1


def test_admin_creates_a_tenant_over_http(dev_stack):
    status, _, raw = dev_stack.request("POST", "/admin/v1/tenants", {"name": "新品牌"}, key=ADMIN_KEY)
    assert status == 201
    new_key = json.loads(raw)["api_key"]
    status, _, raw = dev_stack.request("GET", "/v1/livecodes", key=new_key)
    assert status == 200 and json.loads(raw)["items"] == []


def test_data_survives_a_restart(tmp_path):
    first = DevStack(tmp_path)
    status, _, raw = first.request("POST", "/v1/livecodes", {
        "name": "持久化", "channel": "keep", "targets": [{"kind": "url", "name": "u", "url": "https://e.x"}]})
    assert status == 201
    code = json.loads(raw)
    assert first.stop() == 0
    assert "saved" in first.log and "stopped." in first.log
    second = DevStack(tmp_path)
    try:
        status, _, raw = second.request("GET", f"/v1/livecodes/{code['id']}")
        assert status == 200 and json.loads(raw)["name"] == "持久化"
        assert "restored" in second.log
    finally:
        second.stop()


def test_qr_png_over_http_decodes(dev_stack):
    from tests.support.images import decode_qr

    _, _, raw = dev_stack.request("GET", "/v1/livecodes")
    demo = next(c for c in json.loads(raw)["items"] if c["channel"] == "demo")
    req = urllib.request.Request(f"{dev_stack.base}/v1/livecodes/{demo['id']}/qr?size=512",
                                 headers={"Authorization": f"Bearer {DEV_KEY}", "Accept": "image/png"})
    with urllib.request.urlopen(req) as resp:
        assert resp.headers["Content-Type"] == "image/png"
        assert decode_qr(resp.read()) == [demo["scan_url"]]


def test_uses_a_preset_endpoint_instead_of_its_own(tmp_path, monkeypatch):
    from devstack.moto_server import MotoServer

    external = MotoServer()
    url = external.start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        stack = DevStack(tmp_path, inherit_endpoint=True)
        try:
            assert f"existing endpoint {url}" in stack.log
            assert "nothing is saved by make dev" in stack.log  # the banner tells the truth
            status, _, _ = stack.request("GET", "/v1/livecodes")
            assert status == 200
        finally:
            stack.stop()
    finally:
        external.stop()


def test_gateway_errors_have_the_contract_shape(dev_stack):
    status, _, raw = dev_stack.request("GET", "/no/such/route")
    assert status == 404 and json.loads(raw)["error"]["code"] == "not-found"
    status, headers, raw = dev_stack.request("TRACE", "/v1/livecodes")
    assert status == 405 and json.loads(raw)["error"]["code"] == "method-not-allowed"
    allow = {m.strip() for m in {k.lower(): v for k, v in headers.items()}["allow"].split(",")}
    assert {"GET", "POST", "OPTIONS"} <= allow and "TRACE" not in allow
