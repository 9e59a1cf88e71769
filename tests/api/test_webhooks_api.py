"""Event webhooks through the API: subscriptions (secret shown once, URL guard), fan-out from the
events queue to a local receiver, signatures, a stable delivery id across retries, backoff and
the delivery log; and end to end, an order_paid POST /v1/events reaching the receiver."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone

import pytest

import app as app_module
from chalicelib import events
from devstack.drain import drain_once
from tests.conftest import auth_headers
from tests.support.api import assert_error, body
from tests.support.http_sink import Sink


@pytest.fixture
def sink():
    s = Sink().start()
    yield s
    s.stop()


@pytest.fixture
def no_backoff(monkeypatch):
    from chalicelib.hooks import delivery
    from chalicelib.settings import get_settings

    cfg = get_settings()._replace(hook_retry_base_seconds=0)
    monkeypatch.setattr(delivery, "get_settings", lambda: cfg)


def drain() -> None:
    """Events queue into the fan-out, then the hooks queue into the sender, until both are empty."""
    for _ in range(20):
        moved = drain_once("yutang-events", app_module.handle_events, visibility_timeout=0)
        moved += drain_once("yutang-hooks", app_module.handle_hook_deliveries, visibility_timeout=0)
        if not moved:
            return


def subscribe(client, tenant, url, types=("order_paid",), **extra):
    resp = client.http.post("/v1/webhook-subscriptions", headers=auth_headers(tenant),
                            body=json.dumps({"url": url, "events": list(types), **extra}))
    assert resp.status_code == 201, resp.body
    return body(resp)


def deliveries(client, tenant, query=""):
    resp = client.http.get(f"/v1/webhook-deliveries{query}", headers=auth_headers(tenant))
    assert resp.status_code == 200, resp.body
    return body(resp)["items"]


def order(tenant_id: str, n: int = 1) -> dict:
    return {"tenant_id": tenant_id, "user_id": f"user{n:08d}", "event_type": "order_paid",
            "properties": {"order_id": f"o-{n}", "amount": 99},
            "at": datetime(2026, 11, 11, 0, 0, n, tzinfo=timezone.utc).isoformat()}


def verify(request, secret: str) -> dict:
    ts = request.headers["X-Yutang-Timestamp"]
    mac = hmac.new(secret.encode(), ts.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Yutang-Signature"] == "sha256=" + mac
    return json.loads(request.body)


def test_subscription_crud_shows_the_secret_once(app_client, tenant, other_tenant):
    h = auth_headers(tenant)
    sub = subscribe(app_client, tenant, "https://hooks.example.com/a", ["order_paid", "scan"],
                    description="CRM")
    assert sub["secret"].startswith("whsec_") and sub["enabled"] is True
    assert sub["events"] == ["order_paid", "scan"] and sub["description"] == "CRM"
    got = body(app_client.http.get(f"/v1/webhook-subscriptions/{sub['id']}", headers=h))
    assert "secret" not in got and got["url"] == "https://hooks.example.com/a"
    listed = body(app_client.http.get("/v1/webhook-subscriptions", headers=h))["items"]
    assert [s["id"] for s in listed] == [sub["id"]] and "secret" not in listed[0]
    patched = body(app_client.http.patch(f"/v1/webhook-subscriptions/{sub['id']}", headers=h,
                                         body=json.dumps({"events": ["message_sent"],
                                                          "enabled": False})))
    assert patched["events"] == ["message_sent"] and patched["enabled"] is False
    assert "secret" not in patched
    rotated = body(app_client.http.patch(f"/v1/webhook-subscriptions/{sub['id']}", headers=h,
                                         body=json.dumps({"rotate_secret": True})))
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != sub["secret"]
    other = auth_headers(other_tenant)
    assert_error(app_client.http.get(f"/v1/webhook-subscriptions/{sub['id']}", headers=other), 404,
                 "subscription-not-found")
    assert_error(app_client.http.delete(f"/v1/webhook-subscriptions/{sub['id']}", headers=other),
                 404, "subscription-not-found")
    assert app_client.http.delete(f"/v1/webhook-subscriptions/{sub['id']}",
                                  headers=h).status_code == 204
    assert_error(app_client.http.get(f"/v1/webhook-subscriptions/{sub['id']}", headers=h), 404)


@pytest.mark.parametrize("payload, field, code", [
    ({"url": "ftp://example.com/x", "events": ["scan"]}, "url", None),
    ({"url": "https://example.com/x", "events": ["scan", "coffee_made"]}, "events",
     "invalid-event-type"),
    ({"url": "https://example.com/x", "events": []}, "events", "invalid-event-type"),
    ({"url": "https://0.com", "events": [{}]}, "events", "invalid-event-type"),  # found by the fuzz run
    ({"url": "https://example.com/x", "events": [["scan"], 7]}, "events", "invalid-event-type"),
    ({"url": "https://example.com/x"}, "events", None),
    ({"url": "https://example.com/x", "events": ["scan"], "secret": "mine"}, "secret", None),
])
def test_bad_subscriptions_are_400(app_client, tenant, payload, field, code):
    resp = app_client.http.post("/v1/webhook-subscriptions", headers=auth_headers(tenant),
                                body=json.dumps(payload))
    assert_error(resp, 400, code)
    assert body(resp)["error"].get("field") == field


def test_private_addresses_are_refused_when_saved(app_client, tenant, monkeypatch):
    from chalicelib import fetch
    from chalicelib.settings import get_settings

    strict = get_settings()._replace(allow_private_fetch=False)
    monkeypatch.setattr(fetch, "get_settings", lambda: strict)
    for url in ("http://127.0.0.1:9000/hook", "http://10.0.0.8/hook", "http://[::1]/x"):
        resp = app_client.http.post("/v1/webhook-subscriptions", headers=auth_headers(tenant),
                                    body=json.dumps({"url": url, "events": ["scan"]}))
        assert_error(resp, 400, "webhook-url-refused")


def test_an_event_reaches_the_subscriber_signed_once(app_client, tenant, sink):
    tid = tenant["tenant_id"]
    sub = subscribe(app_client, tenant, sink.url)
    subscribe(app_client, tenant, sink.url + "/scans", ["scan"])  # not for orders
    events.publish("order_paid", order(tid))
    events.publish("order_paid", order(tid))  # SQS delivers an event twice: still one delivery
    drain()
    assert len(sink.requests) == 1
    request = sink.requests[0]
    got = verify(request, sub["secret"])
    assert request.headers["X-Yutang-Event"] == "order_paid"
    assert got["type"] == "order_paid" and got["tenant_id"] == tid
    assert got["data"]["properties"] == {"order_id": "o-1", "amount": 99}
    log = deliveries(app_client, tenant)
    assert [(d["status"], d["attempts"], d["response_status"], d["event_type"]) for d in log] == [
        ("delivered", 1, 200, "order_paid")]
    assert log[0]["id"] == got["id"] == request.headers["X-Yutang-Delivery"]
    assert log[0]["subscription_id"] == sub["id"]


def test_failures_are_retried_with_the_same_delivery_id(app_client, tenant, sink, no_backoff):
    sub = subscribe(app_client, tenant, sink.url)
    sink.statuses = [500, 503]
    events.publish("order_paid", order(tenant["tenant_id"]))
    drain()
    assert len(sink.requests) == 3
    ids = {r.headers["X-Yutang-Delivery"] for r in sink.requests}
    assert len(ids) == 1
    for r in sink.requests:
        verify(r, sub["secret"])
    (log,) = deliveries(app_client, tenant, f"?subscription_id={sub['id']}")
    assert (log["status"], log["attempts"], log["response_status"]) == ("delivered", 3, 200)
    assert log["id"] in ids


def test_a_receiver_that_keeps_failing_ends_failed(app_client, tenant, sink, no_backoff):
    from chalicelib.hooks import delivery

    sub = subscribe(app_client, tenant, sink.url)
    sink.statuses = [500] * 10
    events.publish("order_paid", order(tenant["tenant_id"]))
    drain()
    assert len(sink.requests) == delivery.MAX_ATTEMPTS
    (log,) = deliveries(app_client, tenant, "?status=failed")
    assert (log["attempts"], log["response_status"], log["last_error"]) == (
        delivery.MAX_ATTEMPTS, 500, "HTTP 500")
    assert deliveries(app_client, tenant, "?status=delivered") == []
    assert deliveries(app_client, tenant, f"?subscription_id={sub['id']}&status=failed")[0][
        "id"] == log["id"]


def test_a_disabled_subscription_gets_nothing(app_client, tenant, sink):
    subscribe(app_client, tenant, sink.url, enabled=False)
    events.publish("order_paid", order(tenant["tenant_id"]))
    drain()
    assert sink.requests == [] and deliveries(app_client, tenant) == []


def test_subscriptions_are_read_once_per_batch_not_per_event(app_client, tenant, sink,
                                                            monkeypatch):
    from chalicelib.hooks import consumers
    from chalicelib.hooks.models import HookItem

    subscribe(app_client, tenant, sink.url)
    reads = []
    original = HookItem.query

    def counting(hash_key, *args, **kwargs):
        if args and "S#" in str(args[0]):
            reads.append(hash_key)
        return original(hash_key, *args, **kwargs)

    monkeypatch.setattr(HookItem, "query", counting)
    consumers.clear_cache()
    events.publish_many("order_paid", [order(tenant["tenant_id"], n) for n in range(1, 13)])
    drain()
    assert len(sink.requests) == 12 and len(reads) == 1
    log = deliveries(app_client, tenant, "?limit=5")
    assert len(log) == 5
    rest = body(app_client.http.get(f"/v1/webhook-deliveries?limit=50&cursor={log[-1]['id']}",
                                    headers=auth_headers(tenant)))["items"]
    assert len(rest) == 7 and not {d["id"] for d in rest} & {d["id"] for d in log}


def test_delivery_log_filters_are_checked(app_client, tenant):
    h = auth_headers(tenant)
    assert_error(app_client.http.get("/v1/webhook-deliveries?status=lost", headers=h), 400)
    assert_error(app_client.http.get("/v1/webhook-deliveries?cursor=../x", headers=h), 400,
                 "invalid-cursor")
    assert_error(app_client.http.get("/v1/webhook-deliveries?subscription_id=nope", headers=h),
                 404, "subscription-not-found")


def test_order_paid_posted_to_the_api_reaches_the_receiver(app_client, tenant, sink):
    """End to end: POST /v1/events order_paid → events queue → fan-out → hooks queue → receiver."""
    from chalicelib.audience import users as audience

    sub = subscribe(app_client, tenant, sink.url, ["order_paid", "scan"])
    user = audience.create_user(tenant["tenant_id"], {"brand_user_id": "buyer-1"})
    resp = app_client.http.post("/v1/events", headers=auth_headers(tenant), body=json.dumps(
        {"user_id": user["id"], "type": "order_paid",
         "properties": {"order_id": "A-1001", "amount": 199}}))
    assert resp.status_code == 202, resp.body
    drain()
    assert len(sink.requests) == 1
    got = verify(sink.requests[0], sub["secret"])
    assert got["type"] == "order_paid" and got["data"]["user_id"] == user["id"]
    assert got["data"]["properties"] == {"order_id": "A-1001", "amount": 199}
    assert deliveries(app_client, tenant)[0]["status"] == "delivered"
