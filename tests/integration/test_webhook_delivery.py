# ruff: noqa: F811  (pytest fixtures imported from the campaigns service tests)
"""Webhook delivery with honest semantics (issue 12, items 3 and 4): URLs checked when saved, a
refused address fails at once, a timeout is ``outcome_unknown``, a slow receiver gets each
message at most twice within a minute, a failing endpoint trips the breaker, and a batch is sent
with bounded concurrency."""
import json
import threading
import time
from datetime import timedelta

import pytest

from chalicelib import fetch
from chalicelib.campaigns import batches, breaker, service
from chalicelib.channels import webhook
from chalicelib.settings import get_settings, reset_settings
from tests.conftest import auth_headers
from tests.integration.test_campaigns_service import (  # noqa: F401
    DAYTIME,
    campaign,
    drain,
    now,
    tid,
    users,
)
from tests.support.api import assert_error
from tests.support.http_sink import Sink


@pytest.fixture
def sink():
    s = Sink().start()
    yield s
    s.stop()


@pytest.fixture
def guard_on(monkeypatch):
    real = get_settings()
    monkeypatch.setattr(fetch, "get_settings", lambda: real._replace(allow_private_fetch=False))


def per_user(sink):
    counts = {}
    for r in sink.requests:
        u = json.loads(r.body)["user"]["id"]
        counts[u] = counts.get(u, 0) + 1
    return counts


def test_webhook_urls_are_checked_when_saved(app_client, tenant, guard_on):
    h = auth_headers(tenant)
    for url in ("http://127.0.0.1:9/x", "http://[::127.0.0.1]/x", "http://[64:ff9b::7f00:1]/",
                "http://[2002:7f00:1::]/", "http://169.254.169.254/latest"):
        resp = app_client.http.patch("/v1/tenant", headers=h, body=json.dumps({"webhook_url": url}))
        assert_error(resp, 400, "webhook-url-refused")
        resp = app_client.http.post("/v1/campaigns", headers=h, body=json.dumps({
            "name": "n", "audience": {}, "message": {"text": "t"}, "channel": "webhook",
            "webhook_url": url}))
        assert_error(resp, 400, "webhook-url-refused")
    resp = app_client.http.patch("/v1/tenant", headers=h,
                                 body=json.dumps({"webhook_url": "https://[2606:4700:4700::1111]/h"}))
    assert resp.status_code == 200, resp.body


def test_a_refused_webhook_fails_permanently(tid, now, sink, monkeypatch):
    vip = users(tid, 3, tags=["vip"])
    c = campaign(tid, channel="webhook", webhook_url=sink.url)  # saved while private was allowed
    real = get_settings()
    monkeypatch.setattr(fetch, "get_settings", lambda: real._replace(allow_private_fetch=False))
    service.run_now(tid, c["id"])
    drain()
    assert sink.requests == []
    rows = service.deliveries(tid, c["id"], 10, None)["items"]
    assert {(r["user_id"], r["status"], r["reason"]) for r in rows} == {
        (u, "failed", "refused_address") for u in vip}
    from tests.integration.test_campaigns_service import take_messages
    assert take_messages() == []  # nothing waits for a retry


@pytest.fixture
def delayed_queue(monkeypatch):
    """SQS DelaySeconds on the test's clock: delayed sends wait here until ``release()``."""
    from chalicelib import clock
    from chalicelib.campaigns import sends

    waiting, real_send = [], sends.send_messages

    def send(messages, delays=None):
        immediate = []
        for i, m in enumerate(messages):
            delay = (delays or [0] * len(messages))[i]
            if delay:
                waiting.append((clock.now() + timedelta(seconds=delay), m))
            else:
                immediate.append(m)
        if immediate:
            real_send(immediate)

    def release():
        due = [w for w in waiting if w[0] <= clock.now()]
        for w in due:
            waiting.remove(w)
        if due:
            real_send([m for _, m in due])

    monkeypatch.setattr(sends, "send_messages", send)
    send.release, send.waiting = release, waiting
    return send


def test_a_slow_receiver_is_outcome_unknown_and_gets_each_message_at_most_twice(
        tid, now, sink, monkeypatch, delayed_queue):
    """A receiver slower than the timeout (7 s vs 5 s in production; 0.6 s vs 0.2 s here): the
    first pass times out (recorded ``outcome_unknown``, retried later); through a minute of the
    queue being drained every 5 s, nobody gets a third copy."""
    monkeypatch.setenv("YUTANG_WEBHOOK_TIMEOUT", "0.2")
    reset_settings()
    sink.delay = 0.6
    vip = users(tid, 12, tags=["vip"])
    c = campaign(tid, channel="webhook", webhook_url=sink.url)
    service.run_now(tid, c["id"])
    drain()
    time.sleep(0.7)  # let the receiver finish what it got
    assert per_user(sink) == dict.fromkeys(vip, 1)
    rows = service.deliveries(tid, c["id"], 20, None)["items"]
    assert {(r["status"], r["reason"]) for r in rows} == {("pending", "outcome_unknown")}
    assert len(delayed_queue.waiting) == 1  # the batch comes back later, not now
    for seconds in range(5, 65, 5):
        now.set(DAYTIME + timedelta(seconds=seconds))
        delayed_queue.release()
        drain()
    time.sleep(0.7)
    assert max(per_user(sink).values()) <= 2
    assert {r.headers["X-Yutang-Delivery"] for r in sink.requests} == {
        f"{rows[0]['run_id']}:{u}" for u in vip}  # a repeat carries the same delivery id
    reset_settings()


def test_without_the_breaker_a_slow_receiver_still_gets_at_most_two_copies_a_minute(
        tid, now, sink, monkeypatch, delayed_queue):
    monkeypatch.setattr(breaker, "THRESHOLD", 10_000)
    monkeypatch.setenv("YUTANG_WEBHOOK_TIMEOUT", "0.2")
    reset_settings()
    sink.delay = 0.4
    vip = users(tid, 3, tags=["vip"])
    c = campaign(tid, channel="webhook", webhook_url=sink.url)
    service.run_now(tid, c["id"])
    drain()
    for seconds in range(5, 185, 5):
        now.set(DAYTIME + timedelta(seconds=seconds))
        delayed_queue.release()
        drain()
        if seconds == 60:
            time.sleep(0.5)
            assert max(per_user(sink).values()) == 2  # the 30 s retry, and no more
    time.sleep(0.5)
    assert per_user(sink) == dict.fromkeys(vip, 3)  # 0 s, 30 s, 150 s
    rows = service.deliveries(tid, c["id"], 20, None)["items"]
    assert {(r["status"], r["reason"]) for r in rows} == {("pending", "outcome_unknown")}
    reset_settings()


def test_a_failing_endpoint_trips_the_breaker(tid, now, sink, monkeypatch):
    monkeypatch.setenv("YUTANG_WEBHOOK_RETRY_BASE", "0")
    reset_settings()
    vip = users(tid, 30, tags=["vip"])
    sink.statuses.extend([503] * 200)
    c = campaign(tid, channel="webhook", webhook_url=sink.url)
    service.run_now(tid, c["id"])
    drain()
    sent = len(sink.requests)
    # in-batch: at most THRESHOLD failures in a row plus what was in flight; then the breaker is open
    assert sent <= breaker.THRESHOLD + webhook.CONCURRENCY
    assert breaker.open_until(tid, sink.url, DAYTIME) is not None
    rows = service.deliveries(tid, c["id"], 50, None)["items"]
    assert len(rows) == len(vip)
    assert {r["reason"] for r in rows} <= {"http_503", "circuit_open"}
    assert any(r["reason"] == "circuit_open" for r in rows)
    # a success after the cooldown closes it
    sink.statuses.clear()
    now.set(DAYTIME + timedelta(seconds=breaker.MAX_COOLDOWN + 1))
    breaker.record(tid, sink.url, 1, 0, now())
    assert breaker.open_until(tid, sink.url, now()) is None
    reset_settings()


def test_a_batch_is_sent_with_bounded_concurrency(tid, now, sink):
    sink.delay = 0.2
    in_flight, peak, lock = [0], [0], threading.Lock()
    real = webhook.post

    def counting(*args, **kwargs):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                in_flight[0] -= 1

    webhook.post, original = counting, webhook.post
    try:
        vip = users(tid, 40, tags=["vip"])
        c = campaign(tid, channel="webhook", webhook_url=sink.url)
        service.run_now(tid, c["id"])
        drain()
    finally:
        webhook.post = original
    assert per_user(sink) == dict.fromkeys(vip, 1)
    assert 1 < peak[0] <= webhook.CONCURRENCY
    assert service.stats(tid, c["id"])["sent"] == 40
    assert batches.batch_size("webhook") >= webhook.CONCURRENCY
