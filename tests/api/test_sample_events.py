"""The app's Lambda handlers fed the AWS-shaped sample events of tests/events/ (moto behind them):
an HTTP API 2.0 scan whose cookies carry the visitor cookie, the same through a REST (v1) proxy
event, an EventBridge scheduled event driving the tick, and an SQS batch reaching the consumers."""
import json
from datetime import datetime, timezone

import app as app_module
from chalicelib.analytics.models import DailyStats
from tests.support.images import png_b64
from tests.support.sample_events import load


def _code(tenant_id: str) -> dict:
    from chalicelib.livecodes import service

    return service.create(tenant_id, {"name": "events", "channel": "samples", "targets": [
        {"kind": "group", "name": "g", "image": png_b64()}]})


def test_an_http_api_event_with_cookies_reaches_the_scan_and_its_cookie_is_read(aws_stack, tenant):
    code = _code(tenant["tenant_id"])
    first = app_module.public_handler(load("http_api_v2_cookies", SLUG=code["slug"]), None)
    assert first["statusCode"] == 200
    assert json.loads(first["body"])["returning"] is False  # theme= and lang= are not ours
    visitor = next(c for c in first["cookies"] if c.startswith(f"yt_{code['id']}="))
    event = load("http_api_v2_cookies", SLUG=code["slug"])
    event["cookies"].append(visitor.split(";")[0])  # the browser sends it back among others
    again = app_module.public_handler(event, None)
    assert json.loads(again["body"])["returning"] is True


def test_a_rest_proxy_event_reaches_the_same_route(aws_stack, tenant):
    code = _code(tenant["tenant_id"])
    first = app_module.app(load("apigw_rest_proxy", SLUG=code["slug"]), None)
    assert first["statusCode"] == 200 and json.loads(first["body"])["target"]["name"] == "g"
    assert json.loads(first["body"])["returning"] is False
    visitor = first["headers"]["Set-Cookie"].split(";")[0]
    assert visitor.startswith(f"yt_{code['id']}=")
    event = load("apigw_rest_proxy", SLUG=code["slug"])
    event["headers"]["Cookie"] = f"theme=dark; {visitor}"
    event["multiValueHeaders"]["Cookie"] = [event["headers"]["Cookie"]]
    assert json.loads(app_module.app(event, None)["body"])["returning"] is True


def test_an_eventbridge_scheduled_event_drives_every_tick_job_at_its_time(aws_stack, monkeypatch):
    from chalicelib.campaigns import dispatch
    from chalicelib.journeys import engine
    from chalicelib.livecodes import consumers

    seen = []
    monkeypatch.setattr(consumers, "check_expiring", lambda now: seen.append(("expiring", now)) or 0)
    monkeypatch.setattr(dispatch, "run_due", lambda now: seen.append(("campaigns", now)) or 3)
    monkeypatch.setattr(engine, "run_due", lambda now: seen.append(("journeys", now)) or 5)
    result = app_module.tick(load("eventbridge_scheduled"), None)
    when = datetime(2030, 1, 2, 3, 4, tzinfo=timezone.utc)  # the event's time, not the clock's
    assert sorted(seen) == [("campaigns", when), ("expiring", when), ("journeys", when)]
    assert sorted(result.values()) == [0, 3, 5]


def test_an_sqs_batch_with_message_attributes_reaches_the_consumers(aws_stack, tenant):
    tid = tenant["tenant_id"]
    app_module.handle_events(load("sqs_events_batch", TENANT=tid), None)
    day = DailyStats.get(tid, DailyStats.code_day_key("code1", "2026-11-30"))
    assert day.scans == 2  # both records counted by the analytics consumer
