"""Imported events are history (docs/events.md "Imported history"): each event an import records
is published once, marked ``imported: true`` with the import's id. End to end, through the API and
the queues as Lambda runs them: the insight counters count it on the day it happened; a webhook
subscription that asked for history (``include_imported``) receives it marked, one that did not
receives nothing; no after_event campaign reacts to it; re-importing the file publishes nothing."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

import app as app_module
from chalicelib.campaigns import dispatch
from devstack.drain import drain_once
from tests.conftest import auth_headers
from tests.support import portability as p
from tests.support.api import body
from tests.support.http_sink import Sink

SHANGHAI = timezone(timedelta(hours=8))


@pytest.fixture
def sink():
    s = Sink().start()
    yield s
    s.stop()


def drain() -> None:
    for _ in range(30):
        moved = drain_once("yutang-events", app_module.handle_events, visibility_timeout=0)
        moved += drain_once("yutang-hooks", app_module.handle_hook_deliveries, visibility_timeout=0)
        if not moved:
            return


def subscribe(client, tenant, url: str, **extra) -> dict:
    resp = client.http.post("/v1/webhook-subscriptions", headers=auth_headers(tenant), body=json.dumps(
        {"url": url, "events": ["order_paid", "staff_added"], **extra}))
    assert resp.status_code == 201, resp.body
    return body(resp)


def overview(client, tenant, day: str) -> dict:
    resp = client.http.get(f"/v1/analytics/overview?from={day}&to={day}",
                           headers=auth_headers(tenant))
    assert resp.status_code == 200, resp.body
    return body(resp)["totals"]


def test_imported_events_count_on_their_day_and_reach_only_webhooks_that_ask(
        app_client, tenant, sink, monkeypatch):
    campaign_calls: list[dict] = []
    original = dispatch.on_user_events
    monkeypatch.setattr(dispatch, "on_user_events",
                        lambda payloads: (campaign_calls.extend(payloads), original(payloads)))
    history = subscribe(app_client, tenant, sink.url + "/history", include_imported=True)
    live_only = subscribe(app_client, tenant, sink.url + "/live")
    assert history["include_imported"] is True and live_only["include_imported"] is False

    day = (datetime.now(SHANGHAI) - timedelta(days=3)).replace(hour=12, minute=0, second=0,
                                                               microsecond=0)
    lines = [
        {"brand_user_id": "B1", "type": "order_paid", "at": day.isoformat(),
         "properties": {"order_id": "A-1", "amount": 99}},
        {"brand_user_id": "B2", "type": "order_paid", "at": (day + timedelta(hours=1)).isoformat(),
         "properties": {"order_id": "A-2", "amount": 10}},
        {"external_userid": "wm-1", "type": "joined_staff", "at": day.isoformat(),
         "properties": {"staff": "zhang"}},
        {"brand_user_id": "B1", "type": "viewed", "at": day.isoformat()},
    ]
    content = "\n".join(json.dumps(line) for line in lines) + "\n"
    job = p.run_import(app_client, tenant, "events", content, fmt="jsonl")
    assert (job["rows_ok"], job["rows_failed"]) == (4, 0), job
    drain()

    totals = overview(app_client, tenant, day.date().isoformat())
    assert (totals["orders_paid"], totals["staff_added"]) == (2, 1)

    paths = sorted(r.path for r in sink.requests)
    assert paths == ["/hook/history"] * 3                   # nothing to the live-only endpoint
    delivered = [json.loads(r.body) for r in sink.requests]
    assert sorted(d["type"] for d in delivered) == ["order_paid", "order_paid", "staff_added"]
    for d in delivered:
        assert d["data"]["imported"] is True and d["data"]["import_id"] == job["id"]
        assert d["data"]["at"].startswith(day.date().isoformat()[:8])
    orders = sorted(d["data"]["properties"]["order_id"] for d in delivered
                    if d["type"] == "order_paid")
    assert orders == ["A-1", "A-2"]
    assert campaign_calls == []                             # history starts no campaign

    # the same file again: recorded before, so nothing is published, counted or delivered
    again = p.run_import(app_client, tenant, "events", content, fmt="jsonl")
    assert again["rows_ok"] == 4
    drain()
    assert overview(app_client, tenant, day.date().isoformat())["orders_paid"] == 2
    assert len(sink.requests) == 3

    # a live event still reaches both endpoints and the campaign handler
    resp = app_client.http.post("/v1/events", headers=auth_headers(tenant), body=json.dumps(
        {"identity": {"brand_user_id": "B1"}, "type": "order_paid",
         "properties": {"order_id": "L-1"}}))
    assert resp.status_code == 202, resp.body
    drain()
    assert sorted(r.path for r in sink.requests[3:]) == ["/hook/history", "/hook/live"]
    assert all("imported" not in json.loads(r.body)["data"] for r in sink.requests[3:])
    assert [c["event_type"] for c in campaign_calls] == ["order_paid"]


def test_include_imported_can_be_changed(app_client, tenant):
    sub = subscribe(app_client, tenant, "https://hooks.example.com/h")
    h = auth_headers(tenant)
    changed = app_client.http.patch(f"/v1/webhook-subscriptions/{sub['id']}", headers=h,
                                    body=json.dumps({"include_imported": True}))
    assert changed.status_code == 200 and body(changed)["include_imported"] is True
    bad = app_client.http.patch(f"/v1/webhook-subscriptions/{sub['id']}", headers=h,
                                body=json.dumps({"include_imported": "yes"}))
    assert bad.status_code == 400 and body(bad)["error"]["field"] == "include_imported"
