"""`make dev` prints the demo owner's console login; a person logs in with exactly what was printed,
over HTTP, reads who they are, and the same login works after a restart (kept in the data dir)."""
from __future__ import annotations

import json
import re

from tests.e2e.conftest import DevStack

LOGIN_LINE = re.compile(r"owner login\s+(\S+@\S+) / (\S+)")


def _printed_login(log: str) -> tuple[str, str]:
    match = LOGIN_LINE.search(log)
    assert match, "the banner has no owner login line:\n" + log
    return match.group(1), match.group(2)


def _log_in(stack: DevStack, email: str, password: str) -> dict:
    status, _, raw = stack.request("POST", "/v1/sessions", {"email": email, "password": password},
                                   key=None)
    assert status == 201, raw
    return json.loads(raw)


def test_banner_owner_login_works_over_http(dev_stack):
    assert f"{dev_stack.base}/console/" in dev_stack.log
    email, password = _printed_login(dev_stack.log)
    assert email == "owner@demo.yutang.dev"
    session = _log_in(dev_stack, email, password)
    status, _, raw = dev_stack.request("GET", "/v1/me", key=session["token"])
    me = json.loads(raw)
    assert status == 200 and me["kind"] == "member" and me["role"] == "owner"
    assert me["email"] == email and me["tenant"]["id"] == session["tenant"]["id"]
    status, _, _ = dev_stack.request("GET", "/v1/livecodes", key=session["token"])
    assert status == 200
    wrong, _, _ = dev_stack.request("POST", "/v1/sessions", {"email": email, "password": "x" * 12},
                                    key=None)
    assert wrong == 401


def test_the_generated_password_is_kept_across_restarts(tmp_path):
    first = DevStack(tmp_path)
    try:
        email, password = _printed_login(first.log)
    finally:
        first.stop()
    second = DevStack(tmp_path)
    try:
        assert _printed_login(second.log) == (email, password)
        _log_in(second, email, password)
    finally:
        second.stop()
