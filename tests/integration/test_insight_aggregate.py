"""The insight aggregator and read budgets: one UpdateItem per key per batch (not per event), a
failed key re-queued once and counted once, and the overview / funnel AWS call budgets."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from bench.common import CallCounter
from bench.insight import _records, _scan, seed
from chalicelib import aws, dispatcher
from chalicelib.analytics import aggregate, insight
from chalicelib.analytics.models import DailyStats
from chalicelib.auth import service as auth
from chalicelib.livecodes import service as livecodes
from chalicelib.settings import get_settings

NOW = datetime(2026, 11, 30, 4, 0, tzinfo=timezone.utc)  # 12:00 in Shanghai


@pytest.fixture
def tid(tenant):
    return tenant["tenant_id"]


def queued() -> list[dict]:
    sqs = aws.client("sqs")
    url = aws.queue_url(get_settings().events_queue)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def test_a_batch_of_scans_is_one_write_per_key(tid):
    scans = [_scan(tid, "code1", NOW, i * 2) for i in range(10)]  # people, one code-day
    dispatcher.dispatch(_records(scans[:1]))  # warm the tenant's timezone
    with CallCounter() as calls:
        dispatcher.dispatch(_records(scans[1:]))
    assert calls.calls["UpdateItem"] == 3  # tenant-day, code-day, channel-day: not 9 × 3
    day = DailyStats.get(tid, DailyStats.code_day_key("code1", "2026-11-30"))
    assert day.scans == 10


def test_the_batch_handler_runs_once_per_batch(tid, monkeypatch):
    seen = []
    monkeypatch.setattr(aggregate, "consume", lambda payloads: seen.append(len(payloads)))
    dispatcher.dispatch(_records([_scan(tid, "code1", NOW, i) for i in range(7)]))
    assert seen == [7]


def test_a_failed_key_is_requeued_and_counted_once(tid, monkeypatch):
    scans = [_scan(tid, "code1", NOW, i * 2) for i in range(4)]
    conn = DailyStats.table()
    real = conn.update_item

    def flaky(hash_key, range_key=None, **kwargs):
        if range_key.startswith("TD#"):
            raise RuntimeError("throttled")
        return real(hash_key, range_key, **kwargs)

    monkeypatch.setattr(conn, "update_item", flaky)
    aggregate.consume(scans)
    monkeypatch.setattr(conn, "update_item", real)
    retry = [m for m in queued() if m["type"] == "agg_retry"]
    assert len(retry) == 1 and retry[0]["deltas"][0]["sk"] == "TD#2026-11-30"
    assert retry[0]["deltas"][0]["add"]["scans"] == 4
    assert DailyStats.get(tid, DailyStats.code_day_key("code1", "2026-11-30")).scans == 4
    dispatcher.dispatch(_records(retry))
    got = insight.overview(tid, "2026-11-30", "2026-11-30", now=NOW)
    assert got["totals"]["scans"] == 4 and got["totals"]["new_visitors"] == 2  # v0, v6


@pytest.mark.parametrize("traffic", [30, 600])
def test_overview_and_funnel_call_budgets_do_not_grow_with_traffic(tid, traffic):
    code = livecodes.create(tid, {"name": "c", "channel": "poster", "targets": [
        {"kind": "url", "name": "u", "url": "https://example.com"}]})
    seed(tid, code["id"], traffic, NOW)
    auth.clear_caches()
    with CallCounter() as calls:
        got = insight.overview(tid, "2026-11-01", "2026-11-30", now=NOW)
    assert calls.total <= 3, calls.calls
    days = {d["date"]: d for d in got["days"]}
    people = sum(1 for i in range(traffic) if i % 10 != 9)
    in_range = sum(1 for i in range(traffic)
                   if i % 10 != 9 and (NOW - timedelta(days=i % 60, minutes=i % 600))
                   .astimezone(timezone(timedelta(hours=8))).date().isoformat() >= "2026-11-01")
    assert got["totals"]["scans"] == in_range
    assert got["totals"]["scans"] + got["previous"]["totals"]["scans"] <= people
    assert sum(d["scans"] for d in days.values()) == in_range
    with CallCounter() as calls:
        loaded = livecodes.load(tid, code["id"])
        funnel = insight.livecode_funnel(loaded, "2026-11-01", "2026-11-30", 7)
    assert calls.total <= 4, calls.calls
    assert funnel["steps"][0]["count"] == in_range
