"""The operator console driven in Debian's Chromium against the real `make dev` stack, as an
operator would use it, at 1440×900 and at 390×844: sign in, overview, live codes list (filters in
the URL, back button), create a live code with an uploaded group image and reordered targets (the
API's field error shown next to its field), scan it over HTTP from another client and see the scan
in the code's chart, the QR dialog's live preview, a delete confirmation that names the code, the
language switch; axe-core on every screen (no serious or critical violations). Screenshots go to
tests/e2e/out/console/ (look at them)."""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.e2e.conftest import DEV_KEY
from tests.support.console import ensure_built
from tests.support.images import png_b64, png_bytes

pytestmark = pytest.mark.e2e
OUT = Path(__file__).parent / "out" / "console"
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
             "Mobile/15E148 MicroMessenger/8.0.50")
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
AXE_RESULTS: dict[str, list] = {}


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (scripts/ensure-chromium installs it)")
        pytest.skip("Chromium is not installed (run scripts/ensure-chromium as root)")
    ensure_built()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "axe.json").write_text(json.dumps(AXE_RESULTS, indent=2, ensure_ascii=False))


def new_page(browser, viewport, errors):
    ctx = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai",
                              is_mobile=viewport is PHONE, has_touch=viewport is PHONE,
                              device_scale_factor=1)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


LOGIN_LINE = re.compile(r"owner login\s+(\S+@\S+) / (\S+)")
ANALYST_PASSWORD = "analyst-password-1"


def owner_login(stack) -> tuple[str, str]:
    """The demo owner's login exactly as `make dev` printed it."""
    match = LOGIN_LINE.search(stack.log)
    assert match, "the banner has no owner login line"
    return match.group(1), match.group(2)


def sign_in(page, base, email=None, password=None):
    """Through the sign-in form: the member login, or (no email) the tab for the dev API key."""
    page.goto(base + "/console/")
    page.wait_for_url(re.compile(r"/console/login"))
    if email is None:
        page.get_by_role("tab", name="使用 API 密钥").click()
        page.fill("#login-key", DEV_KEY)
    else:
        page.fill("#login-email", email)
        page.fill("#login-password", password)
    page.click("[data-test=login-submit]")
    page.wait_for_url(re.compile(r"/console/overview"))
    page.wait_for_selector("[data-test=tenant] strong:has-text('Demo')")


def check_axe(page, name):
    """axe-core on the page as it is: no serious or critical violation."""
    page.wait_for_timeout(400)  # a transition that has not started yet is not in getAnimations()
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(content=AXE.read_text())
    violations = page.evaluate("""async () => {
        // let transitions (dialogs fading in) finish: axe measures colours as they are now
        await Promise.all(document.getAnimations().map(a => a.finished.catch(() => null)));
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' ' +
                JSON.stringify((n.any[0] || {}).data || null))}));
    }""")
    AXE_RESULTS[name] = violations
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: {json.dumps(bad, ensure_ascii=False, indent=1)}"


def shot(page, name):
    OUT.mkdir(parents=True, exist_ok=True)
    # charts are drawn when they come into view (EChart.vue): bring the whole page into view once
    page.evaluate("""async () => {
        const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
        for (let y = 0; y < document.documentElement.scrollHeight; y += innerHeight / 2) {
            scrollTo(0, y); await frame(); await frame();
        }
        scrollTo(0, 0);
    }""")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(400)  # charts finish their entry animation
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


def settle(page):
    page.wait_for_load_state("networkidle")
    page.wait_for_selector("[data-test=loading]", state="detached")


def test_operator_flow_desktop(dev_stack, browser, tmp_path):
    # a group QR image that expires tonight: the overview's alerts say so and link to its code
    soon = (datetime.now(timezone.utc) + timedelta(hours=20)).isoformat()
    status, _, raw = dev_stack.request("POST", "/v1/livecodes", {
        "name": "今晚过期的群", "channel": "alerts", "targets": [
            {"kind": "group", "name": "快过期群", "image": png_b64(), "expires_at": soon}]})
    assert status == 201, raw
    expiring = json.loads(raw)
    errors: list[str] = []
    page = new_page(browser, DESKTOP, errors)
    sign_in(page, dev_stack.base, *owner_login(dev_stack))
    settle(page)
    assert "Asia/Shanghai" in page.inner_text("[data-test=tenant]")
    assert page.inner_text("[data-test=role]").strip() == "所有者"
    assert page.locator("[data-test=kpis] [data-test=kpi-value]").count() == 8
    alert = page.locator("[data-test=alerts] li", has_text="快过期群")
    assert alert.count() == 1
    assert alert.get_by_role("link").get_attribute("href") == f"/console/livecodes/{expiring['id']}"
    shot(page, "overview-1440")
    check_axe(page, "overview-1440")

    # the list: the seeded demo code with its fill bars; filters live in the URL
    page.get_by_role("menuitem", name="渠道活码").click()
    page.wait_for_url(re.compile(r"/console/livecodes$"))
    settle(page)
    assert page.locator("[data-test=codes] .code-name", has_text="鱼塘演示活码").count() == 1
    assert page.locator("[data-test=codes] [role=progressbar]").count() >= 2
    shot(page, "livecodes-1440")
    check_axe(page, "livecodes-1440")
    page.fill("[data-test=search]", "没有这个")  # the search runs on the server (GET ?q=)
    with page.expect_response(lambda r: "/v1/livecodes?" in r.url and "q=" in r.url) as searched:
        page.wait_for_url(re.compile(r"q=%E6%B2%A1"))
    assert searched.value.json()["items"] == []
    page.locator("[data-test=empty]").wait_for()
    page.fill("[data-test=search]", "")
    page.wait_for_url(re.compile(r"/console/livecodes$"))
    page.click("[data-test=status]")
    page.get_by_role("option", name="已停用").click()
    page.wait_for_url(re.compile(r"status=disabled"))
    assert page.locator("[data-test=empty]").is_visible()
    page.go_back()
    page.wait_for_url(re.compile(r"/console/livecodes$"))
    assert page.locator("[data-test=codes] .code-name", has_text="鱼塘演示活码").count() == 1

    # create: an uploaded group image, a second target dragged to the front
    page.click("[data-test=create]")
    page.wait_for_url(re.compile(r"/console/livecodes/new"))
    image = tmp_path / "group.png"
    image.write_bytes(png_bytes(300, 300, (20, 140, 90)))
    page.fill("[data-test=code-name]", "地铁海报活码")
    page.fill("[data-test=target-0] [data-test=target-name]", "福利群 A")
    page.set_input_files("[data-test=target-0] [data-test=target-image]", str(image))
    page.click("[data-test=add-target]")
    page.fill("[data-test=target-1] [data-test=target-name]", "福利群 B")
    page.set_input_files("[data-test=target-1] [data-test=target-image]", str(image))
    page.locator("[data-test=target-1] .handle").drag_to(page.locator("[data-test=target-0]"))
    assert page.input_value("[data-test=target-0] [data-test=target-name]") == "福利群 B"
    assert page.input_value("[data-test=target-1] [data-test=target-name]") == "福利群 A"
    shot(page, "livecode-new-1440")
    check_axe(page, "livecode-new-1440")
    # no channel: the API refuses it and says which field; the console shows it next to the field
    page.click("[data-test=save]")
    channel_item = page.locator(".el-form-item", has=page.locator("#lc-channel"))
    channel_item.locator(".el-form-item__error").wait_for()
    assert "channel" in channel_item.locator(".el-form-item__error").inner_text()
    page.fill("[data-test=code-channel]", "metro-2026")
    page.click("[data-test=save]")
    page.wait_for_url(re.compile(r"/console/livecodes/(?!new\b)[a-z0-9]+$"))
    code_id = page.url.rsplit("/", 1)[1]
    status, _, raw = dev_stack.request("GET", f"/v1/livecodes/{code_id}")
    code = json.loads(raw)
    assert [t["name"] for t in code["targets"]] == ["福利群 B", "福利群 A"]
    assert all(t["image_url"] for t in code["targets"])

    # another client scans it over HTTP; the code's chart shows the scan
    slug = code["slug"]
    status, _, body = dev_stack.request("GET", f"/s/{slug}", key=None,
                                        headers={"User-Agent": WECHAT_UA,
                                                 "Accept": "application/json"})
    assert status == 200, body
    assert json.loads(body)["target"]["name"] == "福利群 B"
    today = page.evaluate("() => new Intl.DateTimeFormat('en-CA', {timeZone: 'Asia/Shanghai'})"
                          ".format(new Date())")
    cell = page.locator(f"[data-test=daily-table] tr[data-date='{today}'] td").first
    deadline = time.monotonic() + 30
    while True:
        page.reload()
        settle(page)
        if cell.inner_text() == "1" or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert cell.inner_text() == "1"
    assert page.inner_text("[data-test=total-scans]") == "1"
    fills = page.locator("[role=progressbar]").first
    assert fills.get_attribute("aria-valuenow") == "1"
    shot(page, "livecode-detail-1440")
    check_axe(page, "livecode-detail-1440")
    detail_url = page.url
    page.goto(dev_stack.base + "/console/overview")
    settle(page)
    scans_card = page.locator("[data-test=kpis] .kpi", has_text="今日 · 扫码")
    assert int(scans_card.locator("[data-test=kpi-value]").inner_text().replace(",", "")) >= 1
    shot(page, "overview-after-scan-1440")
    page.goto(detail_url)
    settle(page)

    # QR dialog: the preview follows the style
    page.click("[data-test=open-qr]")
    preview = page.locator("[data-test=qr-preview]")
    preview.wait_for()
    first = preview.get_attribute("src")
    assert first.startswith("blob:")
    page.fill("[data-test=qr-fg]", "#1d5fc4")
    page.wait_for_function("(src) => document.querySelector('[data-test=qr-preview]').src !== src",
                           arg=first)
    natural = page.evaluate("() => document.querySelector('[data-test=qr-preview]').naturalWidth")
    assert natural >= 128
    shot(page, "livecode-qr-1440")
    check_axe(page, "livecode-qr-1440")
    with page.expect_download() as dl:
        page.click("[data-test=qr-download]")
    assert dl.value.suggested_filename.endswith(".png")
    page.keyboard.press("Escape")

    # edit page loads the saved code
    page.click("[data-test=edit]")
    page.wait_for_url(re.compile(r"/edit$"))
    settle(page)
    assert page.input_value("[data-test=code-name]") == "地铁海报活码"
    shot(page, "livecode-edit-1440")
    check_axe(page, "livecode-edit-1440")
    # edit: rename the code, cap the second target lower, add a third one, save
    page.fill("[data-test=code-name]", "地铁海报活码 2")
    page.fill("#t1-capacity", "50")
    page.click("[data-test=add-target]")
    page.fill("[data-test=target-2] [data-test=target-name]", "福利群 C")
    page.set_input_files("[data-test=target-2] [data-test=target-image]", str(image))
    # saved targets reorder too: A (saved) dragged to the front, saved with one PUT
    page.locator("[data-test=target-0] .row-head").scroll_into_view_if_needed()
    page.locator("[data-test=target-1] .handle").drag_to(page.locator("[data-test=target-0] .row-head"))
    assert page.input_value("[data-test=target-0] [data-test=target-name]") == "福利群 A"
    with page.expect_request(lambda r: r.method == "PUT" and r.url.endswith("/targets/order")):
        page.click("[data-test=save]")
    page.wait_for_url(re.compile(r"/console/livecodes/(?!new\b)[a-z0-9]+$"))
    code = json.loads(dev_stack.request("GET", f"/v1/livecodes/{code_id}")[2])
    assert code["name"] == "地铁海报活码 2"
    assert [(t["name"], t["capacity"]) for t in code["targets"]] == [
        ("福利群 A", 50), ("福利群 B", 200), ("福利群 C", 200)]
    settle(page)

    # delete asks first, naming the code; cancelling keeps it
    page.click("[data-test=delete]")
    box = page.locator(".el-message-box")
    box.wait_for()
    assert "地铁海报活码 2" in box.inner_text()
    check_axe(page, "livecode-delete-confirm-1440")
    box.get_by_role("button", name="取消").click()
    assert dev_stack.request("GET", f"/v1/livecodes/{code_id}")[0] == 200

    # language switch
    page.click("[data-test=lang]")
    page.get_by_role("menuitem", name="English").click()
    page.get_by_role("button", name="Edit").first.wait_for()
    assert page.evaluate("document.documentElement.lang") == "en"
    page.close()
    assert not errors, errors


def test_phone_layout(dev_stack, browser):
    errors: list[str] = []
    page = new_page(browser, PHONE, errors)
    sign_in(page, dev_stack.base, *owner_login(dev_stack))
    settle(page)
    assert page.locator(".sidebar").count() == 0, "no fixed sidebar at phone width"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"horizontal scroll on the overview: {width}"
    shot(page, "overview-390")
    check_axe(page, "overview-390")
    page.click("[data-test=open-drawer]")
    page.get_by_role("menuitem", name="渠道活码").click()
    page.wait_for_url(re.compile(r"/console/livecodes$"))
    settle(page)
    page.locator(".el-drawer").wait_for(state="hidden")
    assert page.locator(".code-card").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "livecodes-390")
    check_axe(page, "livecodes-390")
    page.locator(".code-card .code-name").first.click()
    page.wait_for_url(re.compile(r"/console/livecodes/(?!new\b)[a-z0-9]+$"))
    settle(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "livecode-detail-390")
    check_axe(page, "livecode-detail-390")
    page.goto(dev_stack.base + "/console/livecodes/new")
    settle(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "livecode-new-390")
    check_axe(page, "livecode-new-390")
    page.close()
    assert not errors, errors


def test_login_page_and_deep_link_redirect(dev_stack, browser):
    errors: list[str] = []
    page = new_page(browser, PHONE, errors)
    page.goto(dev_stack.base + "/console/livecodes?status=disabled")
    page.wait_for_url(re.compile(r"/console/login\?redirect="))
    shot(page, "login-390")
    check_axe(page, "login-390")
    page.get_by_role("tab", name="使用 API 密钥").click()
    page.fill("#login-key", "yt_wrong")
    page.click("[data-test=login-submit]")
    page.locator("[data-test=login-error]").wait_for()
    page.fill("#login-key", DEV_KEY)
    page.click("[data-test=login-submit]")
    page.wait_for_url(re.compile(r"/console/livecodes\?status=disabled"))
    page.click("[data-test=account]")
    page.locator("[data-test=logout]").click()
    page.wait_for_url(re.compile(r"/console/login"))
    page.goto(dev_stack.base + "/console/overview")
    page.wait_for_url(re.compile(r"/console/login"))
    page.close()
    assert not errors, errors


def test_analyst_cannot_press_what_changes_data(dev_stack, browser):
    # the owner invites an analyst over the API; the analyst sets a password through the invite
    email, password = owner_login(dev_stack)
    status, _, raw = dev_stack.request("POST", "/v1/sessions",
                                       {"email": email, "password": password}, key=None)
    owner = json.loads(raw)["token"]
    status, _, raw = dev_stack.request("POST", "/v1/members", {
        "email": "analyst@demo.yutang.dev", "role": "analyst"}, key=owner)
    assert status == 201, raw
    token = json.loads(raw)["invite_token"]
    status, _, raw = dev_stack.request("POST", f"/v1/invites/{token}/accept",
                                       {"password": ANALYST_PASSWORD}, key=None)
    assert status == 201, raw

    errors: list[str] = []
    page = new_page(browser, DESKTOP, errors)
    sign_in(page, dev_stack.base, "analyst@demo.yutang.dev", ANALYST_PASSWORD)
    assert page.inner_text("[data-test=role]").strip() == "分析"
    page.goto(dev_stack.base + "/console/livecodes")
    settle(page)
    assert page.locator("[data-test=create]").is_disabled()
    assert page.locator("[data-test=codes] [data-test=delete]").first.is_disabled()
    page.locator("[data-test=codes] .code-name").first.click()
    page.wait_for_url(re.compile(r"/console/livecodes/(?!new\b)[a-z0-9]+$"))
    settle(page)
    assert page.locator("[data-test=edit]").is_disabled()
    assert page.locator("[data-test=delete]").is_disabled()
    check_axe(page, "livecode-detail-analyst-1440")
    # the form itself is read-only, and the API refuses the analyst's write anyway
    page.goto(dev_stack.base + "/console/livecodes/new")
    settle(page)
    assert page.locator("[data-test=save]").is_disabled()
    refused = page.evaluate("""async () => {
        const s = JSON.parse(localStorage.getItem('yutang.session'));
        const r = await fetch('/v1/livecodes', {method: 'POST', headers: {
            'Authorization': 'Bearer ' + s.token, 'Content-Type': 'application/json'},
            body: JSON.stringify({name: 'x', channel: 'y'})});
        return [r.status, (await r.json()).error.code];
    }""")
    assert refused == [403, "forbidden-role"]
    page.close()
    assert not errors, errors


def test_an_invited_member_sets_a_password_through_the_link(dev_stack, browser):
    """The invite link the API hands out (<console>/invite/<token>) opens a page in the console
    where the member sets a password and lands signed in with the role they were given."""
    email, password = owner_login(dev_stack)
    status, _, raw = dev_stack.request("POST", "/v1/sessions",
                                       {"email": email, "password": password}, key=None)
    owner = json.loads(raw)["token"]
    status, _, raw = dev_stack.request("POST", "/v1/members", {
        "email": "operator-invite@demo.yutang.dev", "role": "operator"}, key=owner)
    assert status == 201, raw
    link = json.loads(raw)["invite_url"]
    assert link.startswith(dev_stack.base + "/console/invite/")
    errors: list[str] = []
    page = new_page(browser, PHONE, errors)
    page.goto(link)
    page.locator("#invite-password").wait_for()
    check_axe(page, "invite-390")
    page.fill("#invite-name", "小运营")
    page.fill("#invite-password", "short")
    page.fill("#invite-confirm", "short")
    page.click("[data-test=invite-submit]")
    page.locator(".el-form-item__error").first.wait_for()  # the API's password rule, by the field
    assert "/console/invite/" in page.url
    page.fill("#invite-password", "operator-password-1")
    page.fill("#invite-confirm", "operator-password-1")
    page.click("[data-test=invite-submit]")
    page.wait_for_url(re.compile(r"/console/overview"))
    page.wait_for_selector("[data-test=tenant] strong:has-text('Demo')")
    shot(page, "invite-accepted-390")
    page.context.close()
    # the password works for a normal sign-in, and the link is spent
    status, _, raw = dev_stack.request("POST", "/v1/sessions", {
        "email": "operator-invite@demo.yutang.dev", "password": "operator-password-1"}, key=None)
    assert status == 201 and json.loads(raw)["member"]["role"] == "operator"
    token = link.rsplit("/", 1)[1]
    status, _, _ = dev_stack.request("POST", f"/v1/invites/{token}/accept",
                                     {"password": "operator-password-2"}, key=None)
    assert status >= 400
    assert not errors, errors
