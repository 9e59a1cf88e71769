"""Every screen route of the console's router, visited in Debian's Chromium at 1440×900 and 390×844
against the real `make dev` stack: the screen loads signed in (no bounce to the sign-in page, no
script error), nothing scrolls sideways or is cut off at the right edge on the phone (except inside
a sideways-scrolling table or box), no screen shows an error state, axe-core finds no serious or critical
violation, and a screenshot lands in tests/e2e/out/console/route-<name>-<width>.png.

The route list is read from `console/src/views/*/routes.ts` (the files the router collects), so a
new screen is covered without touching this file; a new route with a parameter needs an object to
show, made through the API in `objects()` (test_every_route_has_something_to_show fails until it
has one). Harness (browser, axe, screenshots) from test_console_browser."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.e2e.test_console_browser import (  # noqa: F401  (browser is a fixture)
    DESKTOP,
    PHONE,
    browser,
    check_axe,
    new_page,
    owner_login,
    settle,
    shot,
)

ROOT = Path(__file__).resolve().parents[2]
VIEWS = ROOT / "console" / "src" / "views"
PATH = re.compile(r"path:\s*'([^']*)'")


def router_paths() -> list[str]:
    """The router's screen paths ('/login', '/overview', '/livecodes/:id', '/settings/members'...):
    every `path:` of every views/*/routes.ts, children prefixed by their parent, redirects left out."""
    paths = []
    for file in sorted(VIEWS.glob("*/routes.ts")):
        text = file.read_text()
        children_at = text.find("children:")
        parent = None
        for m in PATH.finditer(text):
            record = text[m.end():m.end() + 200].split("path:", 1)[0]
            path = m.group(1)
            if children_at != -1 and m.start() < children_at and "children:" in record:
                parent = path
                continue
            if "redirect:" in record:
                continue
            if parent and m.start() > children_at:
                path = f"{parent}/{path}" if path else parent
            paths.append(path if path.startswith("/") else "/" + path)
    return paths


# The collection prefix a parameter stands for -> the key of the object objects() makes for it.
PARAMS = {"/livecodes/:id": "livecode", "/audience/:id": "user", "/campaigns/:id": "campaign",
          "/content/:id": "content", "/fission/templates/:id": "template",
          "/fission/tasks/:id": "task", "/invite/:token": "invite"}


def object_key(path: str) -> str | None:
    for prefix, key in PARAMS.items():
        if path == prefix or path.startswith(prefix + "/"):
            return key
    return None


def test_router_paths_are_read_from_the_views():
    paths = router_paths()
    assert {"/login", "/overview", "/livecodes", "/livecodes/new", "/livecodes/:id"} <= set(paths)
    assert not [p for p in paths if "//" in p or p.endswith("/")]


def test_every_route_has_something_to_show():
    missing = [p for p in router_paths() if ":" in p and object_key(p) is None]
    assert not missing, f"routes with a parameter and no object made for them: {missing}"


def api(stack, method, path, body=None):
    status, _, raw = stack.request(method, path, body)
    assert status in (200, 201), f"{method} {path}: {status} {raw[:300]!r}"
    return json.loads(raw)


def objects(stack) -> dict[str, str]:
    """One object of each kind a parameterised route shows, made through the API."""
    from tests.support.fission import LAYOUT, background_b64

    code = api(stack, "POST", "/v1/livecodes", {
        "name": "路由巡检", "channel": "poster",
        "targets": [{"kind": "url", "name": "官网", "url": "https://example.com/"}]})
    user = api(stack, "POST", "/v1/users", {"identities": {"openid": "o-routes"}, "tags": ["vip"]})
    content = api(stack, "POST", "/v1/contents", {"type": "text", "title": "巡检文案", "body": "hi"})
    campaign = api(stack, "POST", "/v1/campaigns", {"name": "巡检群发", "message": {"text": "hi"}})
    template = api(stack, "POST", "/v1/poster-templates", {
        "name": "巡检海报", "background": background_b64(), "width": 1080, "height": 1920,
        "layout": LAYOUT})
    task = api(stack, "POST", "/v1/fission-tasks", {
        "name": "巡检裂变", "livecode_id": code["id"], "template_id": template["id"], "goal": 3,
        "reward": {"message": "ok"}})
    email, password = owner_login(stack)
    status, _, raw = stack.request("POST", "/v1/sessions", {"email": email, "password": password},
                                   key=None)
    owner = json.loads(raw)["token"]
    status, _, raw = stack.request("POST", "/v1/members", {
        "email": f"routes-{len(stack.log)}@demo.yutang.dev", "role": "operator"}, key=owner)
    assert status == 201, raw
    return {"livecode": code["id"], "user": user["id"], "content": content["id"],
            "campaign": campaign["id"], "template": template["id"], "task": task["id"],
            "invite": json.loads(raw)["invite_token"]}


def sign_in_by_storage(page, stack) -> None:
    """Sign in as the demo owner the way the console keeps a session (localStorage
    "yutang.session", console/src/stores/auth.ts), without the sign-in form (test_console_browser
    drives the form)."""
    email, password = owner_login(stack)
    status, _, raw = stack.request("POST", "/v1/sessions", {"email": email, "password": password},
                                   key=None)
    assert status in (200, 201), raw
    s = json.loads(raw)
    page.goto(stack.base + "/console/login")
    page.evaluate("s => localStorage.setItem('yutang.session', s)", json.dumps(
        {"token": s["token"], "refresh_token": s.get("refresh_token"), "expires_at": s.get("expires_at")}))


# Visible elements whose right edge lies beyond the viewport: content a phone user cannot see and
# cannot scroll to (clipped by an overflow:hidden box, or pushing the page sideways). Inside an
# intentional sideways scroller (a box with overflow-x auto/scroll that is itself in sight, or an
# el-table, whose header follows its body's scroll) it can be scrolled to, so it does not count.
BEYOND_THE_RIGHT_EDGE = """() => {
  const width = document.documentElement.clientWidth
  const scroller = (el) => {
    if (el.classList.contains('el-table')) return true
    const x = getComputedStyle(el).overflowX
    return (x === 'auto' || x === 'scroll') && el.getBoundingClientRect().right <= width + 1
  }
  const found = []
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect()
    if (box.width === 0 || box.height === 0 || box.right <= width + 1) continue
    if (getComputedStyle(el).visibility === 'hidden' || el.closest('[aria-hidden=true]')) continue
    let up = el.parentElement
    while (up && up !== document.body && !scroller(up)) up = up.parentElement
    if (up && up !== document.body) continue
    const name = el.tagName.toLowerCase() + [...el.classList].map((c) => '.' + c).join('')
    found.push(`${name} right=${Math.round(box.right)} "${(el.textContent || '').trim().slice(0, 40)}"`)
  }
  return found.slice(0, 8)
}"""


def slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.replace(":id", "id").replace(":token", "token").lower()
                  ).strip("-") or "root"


@pytest.mark.e2e
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440", "390"])
def test_every_route_at_both_sizes(dev_stack, browser, viewport):
    ids = objects(dev_stack)
    size = str(viewport["width"])
    errors: list[str] = []
    page = new_page(browser, viewport, errors)
    visited = []
    for path in router_paths():
        if path == "/login":
            continue  # signed out: below, in a fresh context
        if not visited:
            sign_in_by_storage(page, dev_stack)
        key = object_key(path)
        url = path.replace(":id", ids[key]).replace(":token", ids[key]) if key else path
        page.goto(dev_stack.base + "/console" + url)
        settle(page)
        page.locator("main").first.wait_for()
        assert "/console/login" not in page.url, f"{path}: sent to the sign-in page"
        if viewport is PHONE:
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{path}: horizontal scroll ({width}px)"
            beyond = page.evaluate(BEYOND_THE_RIGHT_EDGE)
            assert not beyond, f"{path}: cut off at the right edge of the phone: {beyond}"
        shown_errors = page.locator("[data-test=error]:visible")
        assert shown_errors.count() == 0, f"{path}: shows an error: {shown_errors.all_inner_texts()}"
        shot(page, f"route-{slug(path)}-{size}")
        check_axe(page, f"route-{slug(path)}-{size}")
        visited.append(path)
    page.context.close()
    login = new_page(browser, viewport, errors)
    login.goto(dev_stack.base + "/console/login")
    login.locator("#login-email").wait_for()
    shot(login, f"route-login-{size}")
    check_axe(login, f"route-login-{size}")
    login.context.close()
    assert len(visited) >= 4
    assert not errors, errors
