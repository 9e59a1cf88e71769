"""The local stack's tick: it finds every ``@app.schedule`` handler from the app's own registrations
and invokes it with the event EventBridge sends, and through it the real tick jobs run: scheduled
fires, quiet-hour deferrals released, target-expiry warnings."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from chalice import Chalice, Rate
from chalice.app import CloudWatchEvent

import app as app_module
from chalicelib import clock
from chalicelib.auth import service as auth
from chalicelib.campaigns import service, unsubscribes
from chalicelib.channels.models import OutboxItem
from chalicelib.livecodes import service as livecodes
from devstack import drain
from tests.integration.test_campaigns_service import campaign, users
from tests.integration.test_campaigns_service import drain as drain_sends
from tests.support.http_sink import Sink
from tests.support.images import png_b64

UTC = timezone.utc


def test_the_handler_list_holds_the_apps_tick():
    handlers = drain.schedule_handlers(app_module)
    assert handlers, "no @app.schedule handler found"
    assert app_module.tick in handlers


def test_a_scheduled_handler_receives_eventbridges_event():
    """A throwaway app with two schedules: both run, each with a well-formed Scheduled Event."""
    import types

    fake = Chalice(app_name="ticktest")
    seen: list[tuple[str, CloudWatchEvent]] = []

    @fake.schedule(Rate(1, unit=Rate.MINUTES))
    def every_minute(event):
        seen.append(("every_minute", event))

    @fake.schedule("cron(0 3 * * ? *)")
    def nightly(event):
        seen.append(("nightly", event))

    module = types.SimpleNamespace(app=fake, every_minute=every_minute, nightly=nightly)
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert drain.tick_all(module, when) == 2
    assert [name for name, _ in seen] == ["every_minute", "nightly"]
    for name, event in seen:
        assert event.detail_type == "Scheduled Event" and event.source == "aws.events"
        assert event.time == "2030-01-02T03:04:05Z" and event.detail == {}
        assert event.resources == [f"arn:aws:events:us-east-1:{drain.ACCOUNT}:rule/ticktest-dev-{name}"]
        assert event.version == "0" and event.account == drain.ACCOUNT and event.event_id


def test_a_failing_scheduled_handler_does_not_stop_the_others():
    import types

    fake = Chalice(app_name="ticktest")
    ran = []

    @fake.schedule(Rate(1, unit=Rate.MINUTES))
    def broken(event):
        raise RuntimeError("boom")

    @fake.schedule(Rate(1, unit=Rate.MINUTES))
    def fine(event):
        ran.append(event.time)

    assert drain.tick_all(types.SimpleNamespace(app=fake, broken=broken, fine=fine)) == 1
    assert len(ran) == 1


@pytest.fixture
def now(monkeypatch, aws_stack):
    class Clock:
        value = datetime(2030, 6, 3, 2, 0, tzinfo=UTC)

        def set(self, value):
            self.value = value

        def __call__(self):
            return self.value

    c = Clock()
    monkeypatch.setattr(clock, "now", c)
    service.forget()
    unsubscribes.forget()
    return c


def outbox(tid, cid):
    return sorted(o.user_id for o in OutboxItem.query(tid, OutboxItem.sk.startswith(cid + "#")))


def test_the_tick_fires_an_at_campaign(tenant, now):
    tid = tenant["tenant_id"]
    vip = users(tid, 3, tags=["vip"])
    at = now() + timedelta(minutes=5)
    c = campaign(tid, schedule={"at": at.isoformat()})
    drain.tick_all(app_module, at - timedelta(minutes=1))
    drain_sends()
    assert outbox(tid, c["id"]) == []
    now.set(at + timedelta(seconds=1))
    drain.tick_all(app_module, now())
    drain_sends()
    assert outbox(tid, c["id"]) == sorted(vip)


def test_the_tick_releases_a_quiet_hours_deferral(tenant, now):
    tid = tenant["tenant_id"]
    vip = users(tid, 3, tags=["vip"])
    night = datetime(2030, 6, 3, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    now.set(night)
    c = campaign(tid, quiet_hours={"start": "22:00", "end": "08:00"})
    service.run_now(tid, c["id"])
    drain_sends()
    assert service.list_runs(tid, c["id"])["items"][0]["status"] == "deferred"
    drain.tick_all(app_module, night + timedelta(hours=1))
    drain_sends()
    assert outbox(tid, c["id"]) == []
    morning = datetime(2030, 6, 4, 0, 0, 30, tzinfo=UTC)
    now.set(morning)
    drain.tick_all(app_module, morning)
    drain_sends()
    assert outbox(tid, c["id"]) == sorted(vip)


def test_the_tick_sends_target_expiry_warnings(tenant):
    tid = tenant["tenant_id"]
    sink = Sink().start()
    try:
        auth.update_tenant(tid, {"webhook_url": sink.url})
        soon = datetime.now(UTC) + timedelta(hours=5)
        code = livecodes.create(tid, {"name": "expiring", "channel": "tick", "targets": [
            {"kind": "group", "name": "soon", "image": png_b64(), "expires_at": soon.isoformat()},
            {"kind": "group", "name": "later", "image": png_b64()}]})
        assert drain.tick_all(app_module) == 1
        ours = [json.loads(r.body) for r in sink.requests
                if json.loads(r.body).get("livecode_id") == code["id"]]
        assert [(w["type"], w["target"]["name"]) for w in ours] == [
            ("livecode.target_expiring", "soon")]
    finally:
        sink.stop()


def test_each_handler_runs_on_its_own_schedule():
    """The local loop fires as EventBridge would: the minute rate at every tick, a two-hour rate
    every two hours, a cron at its UTC fire time (which is the event's time)."""
    import types

    fake = Chalice(app_name="ticktest")
    seen: list[tuple[str, str]] = []

    @fake.schedule(Rate(1, unit=Rate.MINUTES))
    def minutely(event):
        seen.append(("minutely", event.time))

    @fake.schedule(Rate(2, unit=Rate.HOURS))
    def two_hourly(event):
        seen.append(("two_hourly", event.time))

    @fake.schedule("cron(30 3 ? * MON-FRI *)")  # 03:30 UTC on weekdays
    def weekday_morning(event):
        seen.append(("weekday_morning", event.time))

    module = types.SimpleNamespace(app=fake, minutely=minutely, two_hourly=two_hourly,
                                   weekday_morning=weekday_morning)
    start = datetime(2030, 1, 4, 2, 0, tzinfo=UTC)  # a Friday
    ticker = drain.Ticker(drain.schedule_sources(module), start)
    for seconds in (2, 4, 7200, 7202, 5400 + 7200):
        drain.run_sources(module, ticker.due(start + timedelta(seconds=seconds)))
    names = [name for name, _ in seen]
    assert names.count("minutely") == 5
    assert names.count("two_hourly") == 1 and ("two_hourly", "2030-01-04T04:00:00Z") in seen
    assert [t for n, t in seen if n == "weekday_morning"] == ["2030-01-04T03:30:00Z"]
    saturday = datetime(2030, 1, 5, 3, 31, tzinfo=UTC)
    seen.clear()
    drain.run_sources(module, ticker.due(saturday))
    assert [n for n, _ in seen] == ["minutely", "two_hourly"]  # no weekday fire on a Saturday


def test_eventbridge_cron_is_translated():
    assert drain.cron_for_croniter("cron(0 10 ? * 2 *)") == "0 10 * * 1"  # Monday: 2 → 1
    assert drain.cron_for_croniter("cron(0/15 * * * ? *)") == "0/15 * * * *"
    assert drain.cron_for_croniter("cron(0 10 L * ? *)") is None
    assert drain.rate_seconds("rate(5 minutes)") == 300 and drain.rate_seconds("cron(x)") is None
