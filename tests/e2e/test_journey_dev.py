"""A journey on the running `make dev` stack: `order_paid` enters a person, the journey waits,
branches on a click recorded meanwhile, sends through the outbox and tags — all by the stack's own
events drain and tick. The delivery record is visible in the outbox and in the person's history.

The message is smart push: a content pool picked per person (the clicker's tag makes the coffee
item the best match over the newer tea item); the outbox item says which item and why."""
import json
import time

import pytest

from tests.e2e.conftest import DevStack  # noqa: F401 - the fixture's type

pytestmark = pytest.mark.e2e

STEPS = [{"id": "wait", "type": "wait", "seconds": 8, "next": "clicked"},
         {"id": "clicked", "type": "branch", "if": {"event_since_entry": "clicked"},
          "then": "send", "else": "done"},
         {"id": "send", "type": "send", "channel": "outbox", "quiet_hours": False,
          "message": {"text": "点过就送: 首单券", "pick": "best_match",
                      "pool": {"tags_any": ["e2e-coffee", "e2e-tea"]}}, "next": "tag"},
         {"id": "tag", "type": "tag", "add": ["journey-clicked"], "next": "done"},
         {"id": "done", "type": "exit"}]


def _json(raw: bytes) -> dict:
    return json.loads(raw) if raw else {}


def _user(dev_stack, name: str, tags: list[str] | None = None) -> str:
    status, _, raw = dev_stack.request("POST", "/v1/users", {
        "identities": {"brand_user_id": f"{name}-{int(time.time() * 1000)}"}, "tags": tags or []})
    assert status in (200, 201), raw
    return _json(raw)["id"]


def _event(dev_stack, user_id: str, kind: str) -> None:
    status, _, raw = dev_stack.request("POST", "/v1/events", {"user_id": user_id, "type": kind})
    assert status == 202, raw


def _history(dev_stack, user_id: str) -> list[dict]:
    _, _, raw = dev_stack.request("GET", f"/v1/users/{user_id}/journeys")
    return _json(raw).get("items", [])


def _content(dev_stack, title: str, tag: str) -> str:
    status, _, raw = dev_stack.request("POST", "/v1/contents", {
        "type": "text", "title": title, "body": title, "tags": [tag]})
    assert status == 201, raw
    return _json(raw)["id"]


def test_order_paid_wait_click_branch_send(dev_stack):
    coffee = _content(dev_stack, "手冲咖啡指南", "e2e-coffee")
    tea = _content(dev_stack, "春茶上新", "e2e-tea")  # newer: the pick without a match
    status, _, raw = dev_stack.request("POST", "/v1/journeys", {
        "name": "下单后 点击才送券", "entry": {"event": "order_paid"}, "steps": STEPS})
    assert status == 201, raw
    jid = _json(raw)["id"]
    clicker, quiet = _user(dev_stack, "clicker", ["e2e-coffee"]), _user(dev_stack, "quiet")
    _event(dev_stack, clicker, "order_paid")
    _event(dev_stack, quiet, "order_paid")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _history(dev_stack, clicker):
        time.sleep(0.5)  # entered once the events drain reached the consumer
    _event(dev_stack, clicker, "campaign_clicked")
    stats: dict = {}
    while time.monotonic() < deadline + 60:
        _, _, raw = dev_stack.request("GET", f"/v1/journeys/{jid}/stats")
        stats = _json(raw)
        if stats.get("exited") == 2:
            break
        time.sleep(1)
    assert stats.get("entered") == 2 and stats.get("exited") == 2, stats
    _, _, raw = dev_stack.request("GET", f"/v1/outbox?campaign_id={jid}")
    sent = _json(raw)["items"]
    assert [(m["user_id"], m["text"]) for m in sent] == [(clicker, "点过就送: 首单券")]
    assert (sent[0]["content"] or {}).get("id") == coffee != tea, sent[0]
    assert sent[0]["source"].startswith(f"journey:best_match {coffee}"), sent[0]  # which and why
    steps = [h["step"] for h in _history(dev_stack, clicker)[0]["history"]]
    assert steps.count("send") == 1 and steps[-1] == "done"
    assert "send" not in [h["step"] for h in _history(dev_stack, quiet)[0]["history"]]
    _, _, raw = dev_stack.request("GET", f"/v1/users/{clicker}")
    assert "journey-clicked" in _json(raw)["tags"]
