"""Campaign wire records: the sends-queue messages and the stored delivery rows, read in today's
shape and in the shape of earlier releases (messages queued, or parked in due items, before a deploy
are still handled; delivery rows written by earlier releases still read the same)."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from chalicelib.campaigns import reports
from chalicelib.campaigns.wire import (
    FINAL,
    BatchMessage,
    DispatchMessage,
    Row,
    Status,
    message_from_record,
    rows_from_record,
    rows_to_record,
)

SNAP = {"name": "双11", "channel": "outbox", "text": "hi", "tz": "Asia/Shanghai", "caps": {}}


def test_a_dispatch_message_in_the_old_terse_shape_is_read():
    old = {"k": "dispatch", "t": "tenant01", "c": "camp000001", "r": "m123456789", "p": 3,
           "a": "user-17", "m": SNAP, "q": 1}
    msg = message_from_record(old)
    assert msg == DispatchMessage("tenant01", "camp000001", "m123456789", 3, SNAP, after="user-17",
                                  quiet=True)
    assert message_from_record(json.loads(json.dumps(msg.to_record()))) == msg


def test_a_batch_message_in_the_old_terse_shape_is_read():
    old = {"k": "batch", "t": "tenant01", "c": "camp000001", "r": "ev", "b": "u.user-1",
           "u": ["user-1"], "m": {**SNAP, "ev": True}, "x": 1, "lt": 1}
    msg = message_from_record(old)
    assert msg == BatchMessage("tenant01", "camp000001", "ev", "u.user-1", ["user-1"],
                               {**SNAP, "ev": True}, reload=True, last_try=True)
    assert message_from_record(json.loads(json.dumps(msg.to_record()))) == msg
    plain = message_from_record({k: v for k, v in old.items() if k not in ("x", "lt")})
    assert (plain.reload, plain.last_try) == (False, False)


def test_messages_are_written_with_named_fields_and_without_unset_flags():
    msg = BatchMessage("tenant01", "camp000001", "m1", "00000.00", ["a", "b"], SNAP)
    record = msg.to_record()
    assert record == {"kind": "batch", "tenant_id": "tenant01", "campaign_id": "camp000001",
                      "run_id": "m1", "batch": "00000.00", "users": ["a", "b"], "snapshot": SNAP}
    assert replace(msg, reload=True).to_record()["reload"] == 1
    page = DispatchMessage("tenant01", "camp000001", "m1", 0, SNAP)
    assert page.next_page("user-9") == DispatchMessage("tenant01", "camp000001", "m1", 1, SNAP,
                                                       after="user-9")
    assert set(page.to_record()) == {"kind", "tenant_id", "campaign_id", "run_id", "page",
                                     "snapshot"}


def test_an_unknown_message_is_refused():
    with pytest.raises(ValueError):
        message_from_record({"kind": "nonsense"})


OLD_ROWS = {  # as releases before the typed records stored them
    "u1": {"s": "s", "at": "2030-06-03T02:00:00+00:00", "n": 2, "d": "msg-1",
           "ck": "2030-06-03T02:05:00+00:00"},
    "u2": {"s": "f", "at": "2030-06-03T02:00:00+00:00", "r": "http_404", "n": 1},
    "u3": {"s": "k", "at": "2030-06-03T02:00:00+00:00", "r": "capped_day"},
    "u4": {"s": "d", "at": "2030-06-03T02:00:00+00:00", "r": "quiet_hours_deferred",
           "until": "2030-06-04T00:00:00+00:00"},
    "u5": {"s": "c", "at": "2030-06-03T02:00:00+00:00", "lease": 1906336900},
    "u6": {"s": "r", "at": "2030-06-03T02:00:00+00:00", "r": "http_503", "n": 1, "next": 1906336830},
}


def test_stored_delivery_rows_of_earlier_releases_read_and_write_back_unchanged():
    rows = rows_from_record(OLD_ROWS)
    assert rows_to_record(rows) == OLD_ROWS
    assert rows["u1"] == Row(Status.SENT, "2030-06-03T02:00:00+00:00", detail="msg-1", attempts=2,
                             clicked_at="2030-06-03T02:05:00+00:00")
    assert rows["u6"].next_at == 1906336830 and rows["u5"].lease == 1906336900
    assert {u for u, r in rows.items() if r.final} == {"u1", "u2", "u3"}
    assert {Status.SENT, Status.FAILED, Status.SKIPPED} == FINAL


def test_a_stored_key_this_release_does_not_know_survives_a_rewrite():
    row = Row.from_record({"s": "s", "at": "2030-06-03T02:00:00+00:00", "future": 1})
    assert replace(row, clicked_at="x").to_record()["future"] == 1


def test_deliveries_show_old_rows_with_the_api_names():
    views = {u: reports.delivery_view("m1", u, r) for u, r in OLD_ROWS.items()}
    assert {u: v["status"] for u, v in views.items()} == {
        "u1": "sent", "u2": "failed", "u3": "skipped", "u4": "deferred", "u5": "sending",
        "u6": "pending"}
    assert views["u1"] == {"run_id": "m1", "user_id": "u1", "status": "sent", "reason": None,
                           "at": "2030-06-03T02:00:00+00:00",
                           "clicked_at": "2030-06-03T02:05:00+00:00", "detail": "msg-1", "pick": None,
                               "coupon": None}
    assert views["u2"]["reason"] == "http_404"
    assert reports.delivery_view("m1", "u7", None)["status"] == "pending"
