"""Reward notices against moto: delivered once through the task's campaign channel (outbox, webhook,
企业微信) by the events consumer, however often the scan event is replayed; skipped with a reason
when there is no one to address; a vanished sender never causes a second message."""
import json
from datetime import timedelta

import pytest

from chalicelib import clock
from chalicelib.audience import users as audience
from chalicelib.auth import service as auth
from chalicelib.campaigns import service as campaigns
from chalicelib.campaigns import unsubscribes
from chalicelib.channels.models import OutboxItem
from chalicelib.fission import consumers, notices, participants, rewards, tasks
from chalicelib.fission.models import Participant, task_pk
from chalicelib.ids import new_id
from tests.support.http_sink import Sink
from tests.support.images import png_b64
from tests.support.wecom import configure, fake_wecom  # noqa: F401

LAYOUT = {"qr": {"x": 340, "y": 1300, "size": 400}}


@pytest.fixture
def world(aws_stack):
    from chalicelib.livecodes import service as livecodes
    from chalicelib.posters import service as posters

    tenant = auth.create_tenant("notices")["tenant_id"]
    code = livecodes.create(tenant, {"name": "c", "channel": "p", "targets": [
        {"kind": "url", "name": "u", "url": "https://example.com"}]})
    template = posters.create(tenant, {"name": "t", "background": png_b64(1080, 1920),
                                       "width": 1080, "height": 1920, "layout": LAYOUT})
    unsubscribes.forget()

    class World:
        tid = tenant

        def task(self, channel=None, **reward):
            reward = {"message": "恭喜{nickname}，兑换码 {code}", "codes": ["BOOK-1", "BOOK-2"], **reward}
            if channel:
                reward["notice_channel"] = channel
            return tasks.create_task(tenant, {"name": "邀 1 人得书", "livecode_id": code["id"],
                                              "template_id": template["id"], "goal": 1,
                                              "reward": reward})

        def user(self, **identities):
            return audience.create_user(tenant, {"brand_user_id": f"b-{new_id(8)}", **identities})["id"]

        def join(self, task, nickname="小明", **body):
            return participants.register(tenant, task["id"], {"nickname": nickname, **body})[0]

        def scan(self, participant, visitor=None, **extra):
            return {"type": "scan", "tenant_id": tenant, "code_id": code["id"], "channel": "p",
                    "ref": participant["ref"], "visitor_id": visitor or new_id(16),
                    "new_visitor": True, "wechat": True, "at": clock.now().isoformat(), **extra}

        def reward(self, task, participant):
            rows = rewards.rewards(tenant, task["id"], 10, None)["items"]
            return next(r for r in rows if r["participant_id"] == participant["participant_id"])

        def stored(self, task, participant):
            return Participant.get(task_pk(tenant, task["id"]), participant["participant_id"])

    return World()


def outbox(tenant_id):
    return list(OutboxItem.query(tenant_id))


def test_placeholders_are_filled_in_one_pass():
    assert notices.render("{nickname} 的码：{code}", "{code}", "C1") == "{code} 的码：C1"
    assert notices.render("送你 {code}{unknown}", "a", None) == "送你 {unknown}"
    assert notices.render(None, "a", "C1") is None


def test_outbox_notice_is_written_once_however_often_the_event_is_replayed(world):
    task = world.task()
    uid = world.user(openid="o-xm")
    p = world.join(task, user_id=uid)
    event = world.scan(p)
    assert consumers.record_scan(event) == "counted+rewarded"
    for _ in range(3):  # SQS delivers it again, and again
        assert consumers.record_scan(event) == "duplicate"
    assert consumers.record_scan(world.scan(p)) == "counted"  # over the goal: nothing new to send
    items = outbox(world.tid)
    assert [(o.campaign_id, o.run_id, o.user_id, o.source, o.text) for o in items] == [
        (task["id"], p["participant_id"], uid, "fission_reward", "恭喜小明，兑换码 BOOK-1")]
    row = world.reward(task, p)
    assert (row["notice"], row["notice_channel"], row["notice_reason"], row["notice_user_id"]) == (
        "sent", "outbox", None, uid)
    assert row["message"] == "恭喜小明，兑换码 BOOK-1" and row["notice_at"]
    listed = campaigns.outbox(world.tid, 10, None, task["id"], None)["items"]
    assert [(o["user_id"], o["source"], o["run_id"]) for o in listed] == [
        (uid, "fission_reward", p["participant_id"])]


def test_an_openid_participant_is_addressed_as_the_user_holding_that_openid(world):
    task = world.task(message="你好{nickname}")  # no {code} in it: the code is appended
    uid = world.user(openid="o-known")
    p = world.join(task, openid="o-known")
    consumers.record_scan(world.scan(p))
    assert [(o.user_id, o.text) for o in outbox(world.tid)] == [(uid, "你好小明\n兑换码：BOOK-1")]


def test_outbox_without_a_user_is_skipped_with_a_reason(world):
    task = world.task()
    p = world.join(task)  # neither user_id nor openid
    event = world.scan(p)
    consumers.record_scan(event)
    consumers.record_scan(event)
    row = world.reward(task, p)
    assert (row["notice"], row["notice_reason"]) == ("skipped", "no_user")
    assert outbox(world.tid) == []


def test_unsubscribed_users_get_no_notice(world):
    task = world.task()
    uid = world.user()
    unsubscribes.set_unsubscribed(world.tid, uid, True)
    p = world.join(task, user_id=uid)
    consumers.record_scan(world.scan(p))
    assert (world.reward(task, p)["notice"], world.reward(task, p)["notice_reason"]) == (
        "skipped", "unsubscribed")
    assert outbox(world.tid) == []


# ---- webhook ------------------------------------------------------------------------------------

@pytest.fixture
def sink():
    s = Sink().start()
    yield s
    s.stop()


def test_webhook_notice_is_posted_once_under_replays(world, sink):
    import hashlib
    import hmac

    auth.update_tenant(world.tid, {"webhook_url": sink.url})
    task = world.task("webhook")
    uid = world.user(openid="o-w")
    p = world.join(task, user_id=uid)
    event = world.scan(p)
    assert consumers.record_scan(event) == "counted+rewarded"
    assert consumers.record_scan(event) == "duplicate"
    consumers.record_scan(world.scan(p))
    assert len(sink.requests) == 1
    sent = sink.requests[0]
    data = json.loads(sent.body)
    assert data["type"] == "fission.reward" and data["user"]["id"] == uid
    assert data["reward"]["code"] == "BOOK-1" and "BOOK-1" in data["message"]["text"]
    assert sent.headers["X-Yutang-Event"] == "fission.reward"
    assert sent.headers["X-Yutang-Delivery"] == f"fission:{task['id']}:{p['participant_id']}"
    secret = auth.webhook_secret(auth.get_tenant(world.tid, max_age=0))
    mac = hmac.new(secret.encode(), sent.headers["X-Yutang-Timestamp"].encode() + b"." + sent.body,
                   hashlib.sha256).hexdigest()
    assert sent.headers["X-Yutang-Signature"] == f"sha256={mac}"
    assert world.reward(task, p)["notice"] == "sent"


def test_webhook_without_a_url_fails_once_with_a_reason(world):
    task = world.task("webhook")
    p = world.join(task, user_id=world.user())
    event = world.scan(p)
    consumers.record_scan(event)
    consumers.record_scan(event)
    row = world.reward(task, p)
    assert (row["notice"], row["notice_reason"]) == ("failed", "no_webhook_url")


def test_a_vanished_sender_is_never_repeated_for_the_webhook(world, sink, monkeypatch):
    class Killed(BaseException):
        """The Lambda died between claiming and recording (not an ordinary exception)."""

    auth.update_tenant(world.tid, {"webhook_url": sink.url})
    task = world.task("webhook")
    p = world.join(task, user_id=world.user())
    event = world.scan(p)
    real_send = notices._send
    monkeypatch.setattr(notices, "_send", lambda *a: (real_send(*a), (_ for _ in ()).throw(Killed()))[0])
    with pytest.raises(Killed):
        consumers.record_scan(event)
    assert len(sink.requests) == 1 and world.stored(task, p).notice == "sending"
    monkeypatch.setattr(notices, "_send", real_send)
    monkeypatch.setattr(notices, "WAIT_FOR_OTHER_SENDER", (0.01,))
    with pytest.raises(notices.NoticeBusy):  # lease still live: someone may be sending it
        consumers.record_scan(event)
    later = clock.now() + timedelta(minutes=5)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert consumers.record_scan(event) == "duplicate"
    row = world.reward(task, p)
    assert (row["notice"], row["notice_reason"]) == ("failed", "outcome_unknown")
    assert len(sink.requests) == 1  # never twice


def test_a_vanished_sender_is_redone_for_the_outbox(world, monkeypatch):
    class Killed(BaseException):
        pass

    task = world.task()
    uid = world.user()
    p = world.join(task, user_id=uid)
    event = world.scan(p)
    real_send = notices._send
    monkeypatch.setattr(notices, "_send", lambda *a: (real_send(*a), (_ for _ in ()).throw(Killed()))[0])
    with pytest.raises(Killed):
        consumers.record_scan(event)
    monkeypatch.setattr(notices, "_send", real_send)
    later = clock.now() + timedelta(minutes=5)
    monkeypatch.setattr(clock, "now", lambda: later)
    consumers.record_scan(event)
    consumers.record_scan(event)
    assert [o.user_id for o in outbox(world.tid)] == [uid]  # rewritten under the same key: one item
    assert world.reward(task, p)["notice"] == "sent"


# ---- 企业微信 ------------------------------------------------------------------------------------

def test_wecom_notice_goes_to_the_external_userid_once(world, fake_wecom):  # noqa: F811
    configure(world.tid)
    task = world.task("wecom")
    p = world.join(task, user_id=world.user(external_userid="wmREWARD"))
    event = world.scan(p)
    consumers.record_scan(event)
    consumers.record_scan(event)
    assert len(fake_wecom.templates) == 1
    assert fake_wecom.templates[0]["external_userid"] == ["wmREWARD"]
    assert "BOOK-1" in fake_wecom.templates[0]["text"]["content"]
    assert world.reward(task, p)["notice"] == "sent"


def test_wecom_without_an_identity_is_skipped_with_a_reason(world, fake_wecom):  # noqa: F811
    configure(world.tid)
    task = world.task("wecom")
    no_wecom = world.join(task, nickname="a", user_id=world.user(openid="o-nw"))
    nobody = world.join(task, nickname="b", openid="o-unknown")
    for p in (no_wecom, nobody):
        event = world.scan(p)
        consumers.record_scan(event)
        consumers.record_scan(event)
    assert (world.reward(task, no_wecom)["notice"], world.reward(task, no_wecom)["notice_reason"]) \
        == ("skipped", "no_identity_for_channel")
    assert (world.reward(task, nobody)["notice"], world.reward(task, nobody)["notice_reason"]) \
        == ("skipped", "no_user")
    assert fake_wecom.templates == []


def test_wecom_busy_puts_the_notice_back_and_the_retry_sends_it(world, fake_wecom):  # noqa: F811
    configure(world.tid)
    task = world.task("wecom")
    p = world.join(task, user_id=world.user(external_userid="wmBUSY"))
    event = world.scan(p)
    fake_wecom.fail_next("externalcontact/add_msg_template", 45009)
    from chalicelib.wecom.client import WecomRetryable

    with pytest.raises(WecomRetryable):  # the events consumer retries this handler later
        consumers.record_scan(event)
    row = world.reward(task, p)
    assert (row["notice"], row["notice_reason"]) == ("pending", "retrying")
    assert consumers.record_scan(event) == "duplicate"
    assert world.reward(task, p)["notice"] == "sent" and len(fake_wecom.templates) == 1
