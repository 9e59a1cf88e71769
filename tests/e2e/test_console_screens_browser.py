"""The console's campaign, content, audience, fission, settings and API reference screens driven in
Debian's Chromium against the real `make dev` stack: build a poster template by dragging a box (and
by the keyboard) and see the rendered poster change; create a campaign with a live audience count,
run it (outbox) after a confirmation naming it and see its deliveries; an analyst member (created
through the API) finds nothing enabled that would change data, and the API refuses it anyway; every
screen at 1440×900 and 390×844 with a screenshot in tests/e2e/out/console/ and axe-core (no
serious or critical violation). Harness (browser, sign-in, axe, screenshots) from
test_console_browser."""
from __future__ import annotations

import json
import re
import time

import pytest

from tests.e2e import test_console_browser as harness
from tests.e2e.test_console_browser import (
    DESKTOP,
    PHONE,
    check_axe,
    new_page,
    owner_login,
    settle,
    shot,
    sign_in,
)

pytestmark = pytest.mark.e2e
browser = harness.browser  # the console harness's module-scoped Chromium fixture


def api(stack, method, path, body=None, key=...):
    kwargs = {} if key is ... else {"key": key}
    status, _, raw = stack.request(method, path, body, **kwargs)
    return status, (json.loads(raw) if raw else None)


def wait_until(fn, timeout=30.0, every=0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def poster_background(tmp_path):
    from io import BytesIO

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (540, 960), (250, 232, 205))
    draw = ImageDraw.Draw(img)
    for y in range(0, 960, 80):
        draw.rectangle([0, y, 540, y + 40], fill=(235, 120, 90))
    buf = BytesIO()
    img.save(buf, "PNG")
    path = tmp_path / "poster-bg.png"
    path.write_bytes(buf.getvalue())
    return path


def drag(page, selector, dx, dy):
    box = page.locator(selector).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx / 2, y + dy / 2, steps=4)
    page.mouse.move(x + dx, y + dy, steps=4)
    page.mouse.up()


def test_poster_template_drag_and_rendered_poster(dev_stack, browser, tmp_path):
    errors: list[str] = []
    page = new_page(browser, DESKTOP, errors)
    sign_in(page, dev_stack.base, *owner_login(dev_stack))
    page.goto(dev_stack.base + "/console/fission/templates/new")
    settle(page)
    page.fill("[data-test=pe-name]", "双十二海报")
    page.set_input_files("[data-test=pe-bg]", str(poster_background(tmp_path)))
    page.locator("[data-test=poster-stage] img").wait_for()
    page.click("[data-test=pe-create]")
    page.wait_for_url(re.compile(r"/console/fission/templates/(?!new\b)[a-z0-9]+$"))
    template_id = page.url.rsplit("/", 1)[1]
    preview = page.locator("[data-test=poster-preview]")
    preview.wait_for()
    page.wait_for_function("() => document.querySelector('[data-test=poster-preview]').naturalWidth > 0")
    first_src, first_version = preview.get_attribute("src"), preview.get_attribute("data-version")
    before = api(dev_stack, "GET", f"/v1/poster-templates/{template_id}")[1]["layout"]
    first_pixels = page.evaluate("""() => { const img = document.querySelector('[data-test=poster-preview]');
        const c = document.createElement('canvas'); c.width = 60; c.height = 100;
        c.getContext('2d').drawImage(img, 0, 0, 60, 100);
        return Array.from(c.getContext('2d').getImageData(0, 0, 60, 100).data); }""")

    # drag the QR box up and left on the background: the layout is saved, the poster re-rendered
    stage_w = page.locator("[data-test=poster-stage]").bounding_box()["width"]
    scale = stage_w / 1080
    drag(page, "[data-test=box-qr]", -120, -200)
    page.wait_for_function("(v) => document.querySelector('[data-test=poster-preview]')"
                           ".dataset.version !== v", arg=first_version)
    assert preview.get_attribute("src") != first_src
    after = wait_until(lambda: (lambda lay: lay if lay["qr"] != before["qr"] else None)(
        api(dev_stack, "GET", f"/v1/poster-templates/{template_id}")[1]["layout"]))
    assert after, "the dragged layout was not saved"
    assert abs((before["qr"]["x"] - after["qr"]["x"]) - 120 / scale) <= 2 / scale + 1
    assert abs((before["qr"]["y"] - after["qr"]["y"]) - 200 / scale) <= 2 / scale + 1
    page.wait_for_function("() => document.querySelector('[data-test=poster-preview]').naturalWidth > 0")
    second_pixels = page.evaluate("""() => { const img = document.querySelector('[data-test=poster-preview]');
        const c = document.createElement('canvas'); c.width = 60; c.height = 100;
        c.getContext('2d').drawImage(img, 0, 0, 60, 100);
        return Array.from(c.getContext('2d').getImageData(0, 0, 60, 100).data); }""")
    assert first_pixels != second_pixels, "the rendered poster did not change"

    # the keyboard moves a box too (accessibility): focus the avatar, arrow right twice
    version = preview.get_attribute("data-version")
    page.locator("[data-test=box-avatar]").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("(v) => document.querySelector('[data-test=poster-preview]')"
                           ".dataset.version !== v", arg=version, timeout=20_000)
    moved = wait_until(lambda: (lambda lay: lay if lay["avatar"]["x"] == before["avatar"]["x"] + 20
                                else None)(
        api(dev_stack, "GET", f"/v1/poster-templates/{template_id}")[1]["layout"]))
    assert moved, "arrow keys did not move the avatar by 2 × 10 px"
    shot(page, "poster-editor-1440")
    check_axe(page, "poster-editor-1440")
    page.close()
    assert not errors, errors


def test_campaign_create_run_and_deliveries(dev_stack, browser):
    for i in range(3):
        status, _ = api(dev_stack, "POST", "/v1/users",
                        {"identities": {"brand_user_id": f"e2e-vip-{i}"}, "tags": ["e2e-vip"]})
        assert status in (200, 201)
    api(dev_stack, "POST", "/v1/users", {"identities": {"brand_user_id": "e2e-other"}, "tags": ["x"]})
    errors: list[str] = []
    page = new_page(browser, DESKTOP, errors)
    sign_in(page, dev_stack.base, *owner_login(dev_stack))
    page.goto(dev_stack.base + "/console/campaigns")
    settle(page)
    page.click("[data-test=new-campaign]")
    page.wait_for_url(re.compile(r"/console/campaigns/new$"))
    settle(page)
    page.fill("[data-test=cf-name]", "端到端群发")
    tags = page.locator("#cf-aud-all")
    tags.click()
    page.keyboard.type("e2e-vip")
    page.keyboard.press("Enter")
    page.locator("[data-test=audience-count-value]", has_text="3").wait_for()
    page.fill("[data-test=cf-text]", "双十二来啦 https://example.com/sale")
    shot(page, "campaign-new-1440")
    check_axe(page, "campaign-new-1440")
    page.click("[data-test=cf-save]")
    page.wait_for_url(re.compile(r"/console/campaigns/(?!new\b)[a-z0-9]+$"))
    campaign_id = page.url.rsplit("/", 1)[1]
    settle(page)
    stored = api(dev_stack, "GET", f"/v1/campaigns/{campaign_id}")[1]
    assert stored["audience"]["tags_all"] == ["e2e-vip"] and stored["channel"] == "outbox"

    # run now asks first, naming the campaign; then the deliveries appear
    page.click("[data-test=run-now]")
    box = page.locator(".el-message-box")
    box.wait_for()
    assert "端到端群发" in box.inner_text()
    check_axe(page, "campaign-run-confirm-1440")
    box.locator(".el-button--danger").click()
    rows = page.locator("[data-test=deliveries-table] .el-table__body tr")
    deadline = time.monotonic() + 60
    while rows.count() < 3 or page.locator("[data-test=deliveries-table]", has_text="pending").count():
        assert time.monotonic() < deadline, page.inner_text("[data-test=deliveries-table]")
        page.wait_for_timeout(1000)
    assert page.locator("[data-test=deliveries-table] .el-tag", has_text="sent").count() == 3
    page.wait_for_function("() => document.querySelector('[data-test=stat-sent]').textContent.trim() === '3'")
    outbox = api(dev_stack, "GET", f"/v1/outbox?campaign_id={campaign_id}")[1]["items"]
    assert len(outbox) == 3
    shot(page, "campaign-detail-1440")
    check_axe(page, "campaign-detail-1440")

    # the status filter is in the URL
    page.click("[data-test=delivery-status]")
    page.get_by_role("option", name="failed").click()
    page.wait_for_url(re.compile(r"status=failed"))
    rows.first.wait_for(state="detached")
    page.go_back()
    page.wait_for_url(re.compile(rf"/campaigns/{campaign_id}$"))

    # a weekly campaign lands on the calendar in the tenant's timezone
    api(dev_stack, "POST", "/v1/campaigns", {"name": "周一早安", "message": {"text": "早"},
                                             "schedule": {"cron": "0 9 * * 1"}})
    page.goto(dev_stack.base + "/console/campaigns?view=calendar")
    settle(page)
    page.locator("[data-test=calendar] .run", has_text="周一早安").first.wait_for()
    assert page.locator("[data-test=calendar] .run", has_text="09:00 周一早安").count() >= 4
    shot(page, "campaign-calendar-1440")
    check_axe(page, "campaign-calendar-1440")
    page.close()
    assert not errors, errors


def _analyst(dev_stack):
    status, invite = api(dev_stack, "POST", "/v1/members",
                         {"email": "analyst@e2e.yutang.dev", "role": "analyst", "name": "小分析"})
    assert status == 201, invite
    token = invite.get("invite_token") or invite["invite_url"].rstrip("/").rsplit("/", 1)[1]
    status, session = api(dev_stack, "POST", f"/v1/invites/{token}/accept",
                          {"password": "analyst-pass-2026"}, key=None)
    assert status == 201, session
    return session


def test_analyst_cannot_press_what_changes_data(dev_stack, browser):
    session = _analyst(dev_stack)
    status, campaign = api(dev_stack, "POST", "/v1/campaigns",
                           {"name": "分析看不能发", "message": {"text": "hi"}})
    assert status == 201
    status, user = api(dev_stack, "POST", "/v1/users", {"identities": {"brand_user_id": "an-1"}})
    # the API refuses the analyst whatever the console shows
    refused, body = api(dev_stack, "POST", f"/v1/campaigns/{campaign['id']}/run", key=session["token"])
    assert refused == 403 and body["error"]["code"] == "forbidden-role"
    allowed, preview = api(dev_stack, "GET", "/v1/audience/preview", key=session["token"])
    assert allowed == 200 and preview["count"] >= 1

    errors: list[str] = []
    page = new_page(browser, DESKTOP, errors)
    page.goto(dev_stack.base + "/console/login")
    page.fill("#login-email", "analyst@e2e.yutang.dev")
    page.fill("#login-password", "analyst-pass-2026")
    page.click("[data-test=login-submit]")
    page.wait_for_url(re.compile(r"/console/overview"))
    page.locator("[data-test=role]", has_text="分析").wait_for()

    def disabled(selector):
        loc = page.locator(selector).first
        loc.wait_for()
        return loc.is_disabled() or loc.get_attribute("aria-disabled") == "true"

    page.goto(dev_stack.base + "/console/campaigns")
    settle(page)
    assert disabled("[data-test=new-campaign]")
    page.goto(dev_stack.base + f"/console/campaigns/{campaign['id']}")
    settle(page)
    for sel in ("run-now", "toggle", "edit", "delete"):
        assert disabled(f"[data-test={sel}]"), sel
    page.goto(dev_stack.base + "/console/content")
    settle(page)
    assert disabled("[data-test=new-content]")
    page.goto(dev_stack.base + "/console/fission")
    settle(page)
    assert disabled("[data-test=new-task]")
    page.goto(dev_stack.base + "/console/fission?tab=templates")
    settle(page)
    assert disabled("[data-test=new-template]")
    page.goto(dev_stack.base + f"/console/audience/{user['id']}")
    settle(page)
    assert disabled("[data-test=add-tags-btn]")
    page.goto(dev_stack.base + "/console/campaigns/new")
    settle(page)
    assert disabled("[data-test=cf-save]")
    # every enabled button on these screens is navigation or a filter, never a write: a click on
    # each leaves the data as it was (the campaign list answers the same)
    before = api(dev_stack, "GET", "/v1/campaigns")[1]["items"]
    page.goto(dev_stack.base + f"/console/campaigns/{campaign['id']}")
    settle(page)
    for button in page.locator("main button:not([disabled]):not([aria-disabled=true])").all():
        if button.is_visible():
            button.click()
            page.keyboard.press("Escape")
    assert api(dev_stack, "GET", "/v1/campaigns")[1]["items"] == before
    shot(page, "campaign-detail-analyst-1440")
    check_axe(page, "campaign-detail-analyst-1440")
    page.close()
    assert not errors, errors


SCREENS = [
    ("campaigns", "/campaigns", "[data-test=campaign-table], [data-test=empty]"),
    ("campaign-calendar", "/campaigns?view=calendar", "[data-test=calendar]"),
    ("campaign-form", "/campaigns/new", "[data-test=audience-count-value]"),
    ("content", "/content", "[data-test=content-grid], [data-test=empty]"),
    ("content-new", "/content/new", "[data-test=ce-title]"),
    ("audience", "/audience", "[data-test=users-table], [data-test=empty]"),
    ("fission", "/fission", "[data-test=tasks-table], [data-test=empty]"),
    ("fission-templates", "/fission?tab=templates", "[data-test=templates-grid], [data-test=empty]"),
    ("poster-new", "/fission/templates/new", "[data-test=poster-stage]"),
    ("task-new", "/fission/tasks/new", "#tf-name"),
    ("settings-members", "/settings/members", "[data-test=members-table]"),
    ("settings-api-keys", "/settings/api-keys", "[data-test=create-key]"),
    ("settings-audit", "/settings/audit-log", "[data-test=audit-table], [data-test=empty]"),
    ("settings-wecom", "/settings/wecom", "[data-test=wecom-state]"),
    ("settings-mp", "/settings/mini-program", "#mp-appid"),
    ("settings-webhooks", "/settings/webhooks", "main section"),
    ("settings-exports", "/settings/exports", "main section"),
    ("settings-imports", "/settings/imports", "main section"),
    ("api-reference", "/api", ".swagger-ui .opblock-tag"),
]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440", "390"])
def test_every_screen_at_both_sizes(dev_stack, browser, viewport):
    status, user = api(dev_stack, "POST", "/v1/users",
                       {"identities": {"openid": "o-screens"}, "tags": ["vip", "双十二"]})
    api(dev_stack, "POST", "/v1/events", {"user_id": user["id"], "type": "order_paid"})
    status, content = api(dev_stack, "POST", "/v1/contents",
                          {"type": "text", "title": "双十二文案", "body": "来啦", "tags": ["vip"]})
    screens = [*SCREENS, ("audience-user", f"/audience/{user['id']}", "[data-test=timeline]"),
               ("content-edit", f"/content/{content['id']}", "[data-test=ce-title]")]
    errors: list[str] = []
    page = new_page(browser, viewport, errors)
    sign_in(page, dev_stack.base, *owner_login(dev_stack))
    size = str(viewport["width"])
    for name, path, ready in screens:
        page.goto(dev_stack.base + "/console" + path)
        page.locator(ready).first.wait_for(timeout=30_000)
        settle(page)
        if viewport is PHONE:
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{name}: horizontal scroll ({width}px)"
        shot(page, f"{name}-{size}")
        check_axe(page, f"{name}-{size}")
    page.close()
    assert not errors, errors
