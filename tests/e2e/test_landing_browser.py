"""The landing page in headless Chromium at phone size (375×667): the target's QR image loads from
this host and is fully visible without scrolling; nothing is fetched from other hosts."""
import json
import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.support.images import png_b64

pytestmark = pytest.mark.e2e
OUT = Path(__file__).parent / "out"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (scripts/ensure-chromium installs it)")
        pytest.skip("Chromium is not installed (run scripts/ensure-chromium as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def open_phone(browser, url):
    page = browser.new_page(viewport={"width": 375, "height": 667}, device_scale_factor=2,
                            is_mobile=True, has_touch=True,
                            user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
                                       "AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.50")
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    response = page.goto(url, wait_until="load")
    return page, response, requested


def fully_visible(page, selector):
    return page.evaluate("""(sel) => {
        const el = document.querySelector(sel);
        const r = el.getBoundingClientRect();
        return {loaded: el.complete && el.naturalWidth > 0, top: r.top, left: r.left,
                bottom: r.bottom, right: r.right, w: window.innerWidth, h: window.innerHeight,
                scrollW: document.documentElement.scrollWidth};
    }""", selector)


def test_demo_code_landing_at_phone_size(dev_stack, browser):
    _, _, raw = dev_stack.request("GET", "/v1/livecodes")
    demo = next(c for c in json.loads(raw)["items"] if c["channel"] == "demo")
    page, response, requested = open_phone(browser, demo["scan_url"])
    assert response.status == 200
    assert "长按识别二维码" in page.inner_text("body")
    box = fully_visible(page, "#target-qr")
    assert box["loaded"], "the target image did not load"
    assert box["top"] >= 0 and box["left"] >= 0, box
    assert box["bottom"] <= box["h"] and box["right"] <= box["w"], box
    assert box["right"] - box["left"] >= 200, "the QR should be large enough to long-press"
    assert box["scrollW"] <= 375, "no horizontal scrolling"
    hosts = {urlparse(u).netloc for u in requested}
    assert hosts == {urlparse(dev_stack.base).netloc}, hosts
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / "landing-demo.png"))
    page.close()


def test_tall_group_image_still_fits(dev_stack, browser):
    status, _, raw = dev_stack.request("POST", "/v1/livecodes", {
        "name": "竖版群码", "channel": "tall", "targets": [
            {"kind": "group", "name": "一个名字很长很长很长很长很长很长很长很长的福利群", "image": png_b64(430, 760)}]})
    code = json.loads(raw)
    page, _, _ = open_phone(browser, code["scan_url"])
    box = fully_visible(page, "#target-qr")
    assert box["loaded"] and box["top"] >= 0 and box["bottom"] <= box["h"], box
    assert box["scrollW"] <= 375
    page.screenshot(path=str(OUT / "landing-tall.png"))
    page.close()


def test_busy_page_at_phone_size(dev_stack, browser):
    status, _, raw = dev_stack.request("POST", "/v1/livecodes", {
        "name": "已满的活码", "channel": "full", "targets": [
            {"kind": "group", "name": "g", "capacity": 1, "image": png_b64()}]})
    code = json.loads(raw)
    dev_stack.request("GET", f"/s/{code['slug']}", key=None,  # a person fills the group (a bot would not)
                      headers={"User-Agent": "Mozilla/5.0 (iPhone) MicroMessenger/8.0"})
    page, response, _ = open_phone(browser, code["scan_url"])
    assert response.status == 200
    assert "活动太火爆" in page.inner_text("#unavailable")
    page.screenshot(path=str(OUT / "landing-busy.png"))
    page.close()


def test_hostile_names_render_as_text(dev_stack, browser):
    evil = '<img src=x onerror="document.title=\'pwned\'">'
    status, _, raw = dev_stack.request("POST", "/v1/livecodes", {
        "name": evil, "channel": "xss", "targets": [
            {"kind": "group", "name": evil, "image": png_b64()}]})
    code = json.loads(raw)
    page, _, _ = open_phone(browser, code["scan_url"])
    assert page.title() != "pwned"
    assert page.inner_text("#target-name") == evil
    page.close()
