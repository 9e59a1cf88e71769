# ruff: noqa: F811 - the fixtures (tid, now, sink) are imported from test_campaigns_service
"""Stalled campaign runs are re-driven by the tick once their lease runs out, and still reach each
recipient at most once. Each test crashes the work between two steps (the Lambda dies: its
exception is raised and the queued messages are then lost, as when a message is dead-lettered or a
local stack is killed with its queue), moves the clock past the lease and runs the tick + drain."""
import json
from datetime import timedelta

import pytest

import app as app_module
from chalicelib import aws
from chalicelib.campaigns import batches as batch_items
from chalicelib.campaigns import dispatch, outcomes, redrive, sender, sends, service
from chalicelib.campaigns.models import Campaign, DueItem
from chalicelib.campaigns.wire import BatchMessage, message_from_record
from chalicelib.settings import get_settings
from tests.integration.test_campaigns_service import (  # noqa: F401 - fixtures
    campaign,
    delivered,
    drain,
    lambda_event,
    now,
    outbox_users,
    run_dispatch,
    sink,
    take_messages,
    tid,
    users,
)

SENDS = "yutang-sends"


def lease():
    return timedelta(seconds=get_settings().run_lease_seconds)


def lose_queued_messages():
    """What a dead Lambda plus a lost queue leave behind: nothing queued."""
    sqs = aws.client("sqs")
    url = aws.queue_url(SENDS)
    lost = 0
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                     VisibilityTimeout=0).get("Messages", []):
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
        lost += len(got)
    return lost


def peek(cid):
    """The bodies of the queued messages of one campaign, left in the queue (a tick also acts on
    due items of other tests' campaigns: the queue is shared)."""
    sqs = aws.client("sqs")
    url = aws.queue_url(SENDS)
    seen = []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                     VisibilityTimeout=60).get("Messages", []):
        seen.extend(got)
    for i in range(0, len(seen), 10):
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for n, m in enumerate(seen[i:i + 10])])
    return [m for m in (message_from_record(json.loads(m["Body"])) for m in seen)
            if m.campaign_id == cid]


def crash_once(monkeypatch, module, name, when=lambda *a, **k: True):
    """Make ``module.name`` raise the first time ``when(args)`` holds (the Lambda dies there)."""
    real = getattr(module, name)
    state = {"crashed": False}

    def wrapper(*args, **kwargs):
        if not state["crashed"] and when(*args, **kwargs):
            state["crashed"] = True
            raise RuntimeError(f"Lambda died in {name}")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return state


def drain_until_crash(state):
    """Deliver the queue batch by batch until the injected crash happened (SQS would retry the
    failed batch; here the Lambda died and its messages are lost: see lose_queued_messages)."""
    from devstack.drain import drain_once

    for _ in range(50):
        if state["crashed"]:
            return
        drain_once(SENDS, app_module.handle_sends, visibility_timeout=0, max_batches=1)
    raise AssertionError("the crash point was never reached")


def run_record(tid, cid, run_id):
    return Campaign.get(tid, Campaign.run_key(cid, run_id), consistent_read=True)


def the_run(tid, cid):
    return service.list_runs(tid, cid)["items"][0]


def tick_after_lease(now, from_time=None):
    now.set((from_time or now()) + lease() + timedelta(seconds=1))
    dispatch.run_due(now())


def assert_complete(tid, cid, expected):
    assert sorted(outbox_users(tid, cid)) == sorted(expected)  # one outbox item per recipient
    run = the_run(tid, cid)
    assert run["status"] == "done" and run["sent"] == len(expected), run
    assert run["pending"] == 0 and run["queued"] == len(expected)


def test_a_run_whose_first_dispatch_message_was_never_queued(tid, now, monkeypatch):
    vip = users(tid, 5, tags=["vip"])
    c = campaign(tid)
    started = now()
    state = crash_once(monkeypatch, sends, "send_messages")
    with pytest.raises(RuntimeError):
        service.run_now(tid, c["id"])  # died after recording the run, before queuing page 0
    assert state["crashed"] and drain() == 0
    assert the_run(tid, c["id"])["status"] == "dispatching"
    now.set(started + lease() - timedelta(seconds=30))  # within the lease: not yet
    dispatch.run_due(now())
    assert peek(c["id"]) == []
    drain()
    assert outbox_users(tid, c["id"]) == []
    tick_after_lease(now, started)
    drain()
    assert_complete(tid, c["id"], vip)


@pytest.mark.parametrize("page", [0, 1])
def test_a_dispatch_page_dying_after_its_write_is_redriven(tid, now, monkeypatch, page):
    monkeypatch.setitem(batch_items.BATCH_SIZES, "outbox", 3)
    monkeypatch.setattr(dispatch, "PAGE_BATCHES", 2)  # pages of 6: 14 recipients, 3 pages
    vip = users(tid, 14, tags=["vip"])
    c = campaign(tid)

    def page_batches(messages, *a, **k):  # the queuing step right after page N's transaction
        return any(isinstance(m, BatchMessage) and m.batch.startswith(f"{page:05d}.")
                   for m in messages)

    state = crash_once(monkeypatch, sends, "send_messages", page_batches)
    service.run_now(tid, c["id"])
    drain_until_crash(state)
    lose_queued_messages()  # the failed page message (and anything else queued) is gone
    assert the_run(tid, c["id"])["status"] == "dispatching"
    tick_after_lease(now)
    drain()
    assert_complete(tid, c["id"], vip)


def test_an_outbox_sender_dying_before_recording_its_rows(tid, now, monkeypatch):
    vip = users(tid, 6, tags=["vip"])
    c = campaign(tid)
    state = crash_once(monkeypatch, outcomes, "record")  # outbox items written, rows not
    service.run_now(tid, c["id"])
    drain_until_crash(state)
    lose_queued_messages()
    assert sorted(outbox_users(tid, c["id"])) == sorted(vip)  # written before the crash
    assert the_run(tid, c["id"])["status"] == "sending"
    tick_after_lease(now)
    drain()
    assert_complete(tid, c["id"], vip)  # rewritten items are the same items; counted once


def test_a_webhook_sender_dying_after_sending_never_sends_twice(tid, now, sink, monkeypatch):
    made = users(tid, 4, tags=["vip"])
    c = campaign(tid, channel="webhook", webhook_url=sink.url)
    state = crash_once(monkeypatch, outcomes, "record")  # sent, outcome not recorded
    service.run_now(tid, c["id"])
    drain_until_crash(state)
    lose_queued_messages()
    sent_to = sorted(delivered(sink))
    assert sent_to == sorted(made)
    tick_after_lease(now)
    drain()
    assert sorted(delivered(sink)) == sent_to  # no repeat
    run = the_run(tid, c["id"])
    assert run["status"] == "done" and run["failed"] == 4 and run["pending"] == 0
    rows = service.deliveries(tid, c["id"], 10, None)["items"]
    assert {r["reason"] for r in rows} == {"outcome_unknown"}


def test_a_webhook_sender_dying_after_claiming_sends_nothing_later(tid, now, sink, monkeypatch):
    users(tid, 3, tags=["vip"])
    c = campaign(tid, channel="webhook", webhook_url=sink.url)
    state = crash_once(monkeypatch, sender, "_write_contacts")  # rows claimed, nothing sent
    service.run_now(tid, c["id"])
    drain_until_crash(state)
    lose_queued_messages()
    tick_after_lease(now)
    drain()
    assert sink.requests == []  # at most once: an unknown outcome is not retried
    run = the_run(tid, c["id"])
    assert run["status"] == "done" and run["failed"] == 3


def test_a_slow_run_with_recent_activity_is_not_redriven(tid, now, monkeypatch):
    monkeypatch.setitem(batch_items.BATCH_SIZES, "outbox", 2)
    vip = users(tid, 4, tags=["vip"])
    c = campaign(tid)
    started = now()
    run_dispatch(tid, c["id"])  # page 0 handled: two batches queued
    batches = [message_from_record(json.loads(m["Body"])) for m in take_messages()]
    assert len(batches) == 2
    lose_queued_messages()
    busy = started + lease() - timedelta(seconds=60)
    now.set(busy)
    sender.process(batches[0])  # one batch delivered late in the lease: the run is active
    tick_after_lease(now, started)  # the first lease ran out, but the run moved a minute ago
    assert peek(c["id"]) == []
    assert the_run(tid, c["id"])["status"] == "sending"
    tick_after_lease(now, busy)  # a whole lease without activity: re-driven
    assert [m.batch for m in peek(c["id"])] == [batches[1].batch]
    drain()
    assert_complete(tid, c["id"], vip)


def test_a_finished_run_ends_its_watch(tid, now):
    vip = users(tid, 3, tags=["vip"])
    c = campaign(tid)
    run_id = service.run_now(tid, c["id"])
    drain()
    assert_complete(tid, c["id"], vip)
    run = run_record(tid, c["id"], run_id)
    watch = redrive.watch(tid, c["id"], run_id, run.lease_until)
    assert DueItem.count(watch.shard, DueItem.key == watch.key) == 1
    tick_after_lease(now)
    assert peek(c["id"]) == []
    assert DueItem.count(watch.shard, DueItem.key == watch.key) == 0
    assert_complete(tid, c["id"], vip)


def test_a_run_that_never_progresses_is_given_up_after_the_last_try(tid, now, monkeypatch):
    users(tid, 2, tags=["vip"])
    c = campaign(tid)
    run_id = run_dispatch(tid, c["id"])  # page 0 handled, its batch queued
    rounds = []
    monkeypatch.setattr(sender, "process", lambda msg, receives=1: (_ for _ in ()).throw(
        RuntimeError("always dies")))
    for _ in range(redrive.MAX_REDRIVES + 1):
        lose_queued_messages()
        tick_after_lease(now)
        rounds.append(peek(c["id"]))
    assert [len(r) for r in rounds[:redrive.MAX_REDRIVES]] == [1] * redrive.MAX_REDRIVES
    assert [m.last_try for r in rounds[:redrive.MAX_REDRIVES] for m in r] == [False, False, True]
    assert rounds[-1] == []  # the watch ended: nothing more is queued for this run
    assert run_record(tid, c["id"], run_id).lease_until is None
