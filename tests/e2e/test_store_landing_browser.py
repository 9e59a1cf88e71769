"""A store code (门店活码) in headless Chromium: the landing asks for the position under its nonce
CSP, posts it back and shows the nearest store's staff; with the position denied (or skipped) the
visitor goes by the region of their IP (127.0.0.1 is "beijing" in this stack's table)."""
import json

import pytest

from tests.e2e.conftest import DevStack
from tests.e2e.test_landing_browser import browser  # noqa: F401  (the module's Chromium fixture)
from tests.support.images import png_b64

pytestmark = pytest.mark.e2e
SQUARE = {"lat": 31.2304, "lng": 121.4737, "radius_m": 2000, "region": "shanghai"}
WANGFUJING = {"lat": 39.9139, "lng": 116.4108, "radius_m": 5000, "region": "beijing"}
NEAR_SQUARE = {"latitude": 31.2310, "longitude": 121.4740}


@pytest.fixture(scope="module")
def store_stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stores")
    table = tmp / "regions.csv"
    table.write_text("127.0.0.0,127.255.255.255,beijing\n")
    stack = DevStack(tmp, extra_env={"YUTANG_X_IP_REGIONS": str(table)})
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def store_code(store_stack):
    def staff(name, store):
        return {"kind": "staff", "name": name, "image": png_b64(), "store": store}

    status, _, raw = store_stack.request("POST", "/v1/livecodes", {
        "name": "门店", "channel": "stores", "targets": [
            staff("人民广场店", SQUARE), staff("王府井店", WANGFUJING)],
        "fallback": {"kind": "staff", "name": "客服", "image": png_b64()}})
    assert status == 201, raw
    return json.loads(raw)


def _visit(browser, url, **context):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, **context)
    page = ctx.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.goto(url, wait_until="load")
    assert page.is_visible("#locate-use"), "the script (allowed by its nonce) shows the button"
    return ctx, page, problems


def _landed(page):
    page.wait_for_selector("#target-name", timeout=20000)
    return page.inner_text("#target-name")


def test_granted_position_goes_to_the_nearest_store(browser, store_code):  # noqa: F811
    ctx, page, problems = _visit(browser, store_code["scan_url"], geolocation=NEAR_SQUARE,
                                 permissions=["geolocation"])
    page.click("#locate-use")
    assert _landed(page) == "人民广场店"
    page.reload(wait_until="load")  # the visit cookie keeps them there
    assert _landed(page) == "人民广场店"
    assert not problems, problems  # no CSP violation, no script error
    ctx.close()


def test_denied_position_goes_by_the_ip_region(browser, store_code):  # noqa: F811
    ctx, page, problems = _visit(browser, store_code["scan_url"], geolocation=NEAR_SQUARE,
                                 permissions=[])
    page.click("#locate-use")
    assert _landed(page) == "王府井店"
    assert not [p for p in problems if "Content Security Policy" in p], problems
    ctx.close()


def test_skipping_goes_by_the_ip_region_too(browser, store_code):  # noqa: F811
    ctx, page, _ = _visit(browser, store_code["scan_url"])
    page.click("#locate-skip")
    assert _landed(page) == "王府井店"
    ctx.close()
