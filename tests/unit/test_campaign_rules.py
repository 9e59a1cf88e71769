"""Campaign rules without AWS: schedules (cron, timezones, DST), quiet hours, caps, audiences,
link rewriting and click tokens, and how rows become stats."""
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.audience.rules import check_event_type
from chalicelib.campaigns import batches, frequency, links, rules, schedule
from chalicelib.errors import ValidationFailed

UTC = timezone.utc
NOW = datetime(2025, 6, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Asia/Shanghai


# ---- schedules ----------------------------------------------------------------------------------

def test_no_schedule_means_manual():
    assert schedule.parse(None, NOW).kind == "manual"
    assert schedule.parse({}, NOW).kind == "manual"


@pytest.mark.parametrize("body, code", [
    ({"at": "2025-06-01T10:00:00+08:00"}, "schedule-in-past"),
    ({"at": "2025-07-01T10:00:00"}, "validation-error"),          # no offset
    ({"cron": "0 10 * *"}, "invalid-cron"),                       # 4 fields
    ({"cron": "0 25 * * *"}, "invalid-cron"),
    ({"cron": "0 0 10 * * 1"}, "invalid-cron"),                   # seconds field
    ({"at": "2025-07-01T10:00:00+08:00", "cron": "0 10 * * *"}, "invalid-schedule"),
    ({"after_event": {"type": "Joined Group"}}, "invalid-event-type"),
    ({"after_event": {"type": "joined_group", "delay_minutes": -1}}, "validation-error"),
    ({"every": "day"}, "validation-error"),
])
def test_bad_schedules_are_refused(body, code):
    with pytest.raises(ValidationFailed) as err:
        schedule.parse(body, NOW, check_event_type)
    assert err.value.code == code and err.value.field.startswith("schedule")


def test_schedule_round_trips_through_storage():
    for body in ({"at": "2025-07-01T10:00:00+08:00"}, {"cron": "0  10 * * 1"},
                 {"after_event": {"type": "joined_group", "delay_minutes": 4320}}):
        parsed = schedule.parse(body, NOW, check_event_type)
        assert schedule.from_stored(parsed.as_dict()) == parsed
    assert schedule.parse({"cron": "0  10 * * 1"}, NOW).cron == "0 10 * * 1"


def test_cron_fires_on_the_campaign_wall_clock():
    # Every Monday 10:00 in Shanghai (UTC+8): 02:00 UTC; strictly after "now".
    assert schedule.next_fire("0 10 * * 1", "Asia/Shanghai", NOW) == NOW + timedelta(days=7)
    assert schedule.next_fire("0 10 * * 1", "Asia/Shanghai", NOW - timedelta(seconds=1)) == NOW
    assert schedule.next_fire("30 9 * * *", "Europe/London", NOW) == datetime(
        2025, 6, 2, 8, 30, tzinfo=UTC)  # BST


def test_cron_in_the_spring_forward_gap_fires_once_shifted():
    # New York, 2025-03-09: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist that night.
    tz = "America/New_York"
    start = datetime(2025, 3, 8, 12, 0, tzinfo=UTC)
    fires = [schedule.next_fire("30 2 * * *", tz, start)]
    for _ in range(2):
        fires.append(schedule.next_fire("30 2 * * *", tz, fires[-1]))
    assert fires == [datetime(2025, 3, 9, 7, 30, tzinfo=UTC),   # 03:30 EDT, once
                     datetime(2025, 3, 10, 6, 30, tzinfo=UTC),  # 02:30 EDT
                     datetime(2025, 3, 11, 6, 30, tzinfo=UTC)]


def test_cron_in_the_repeated_fall_back_hour_fires_once():
    # 2025-11-02: 01:00-02:00 happens twice in New York; 01:30 fires at its first occurrence only.
    tz = "America/New_York"
    first = schedule.next_fire("30 1 * * *", tz, datetime(2025, 11, 1, 12, 0, tzinfo=UTC))
    second = schedule.next_fire("30 1 * * *", tz, first)
    assert first == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)    # 01:30 EDT
    assert second == datetime(2025, 11, 3, 6, 30, tzinfo=UTC)   # 01:30 EST next day


def test_hourly_cron_across_fall_back_never_repeats_or_goes_backwards():
    tz, at = "America/New_York", datetime(2025, 11, 2, 3, 0, tzinfo=UTC)
    seen = []
    for _ in range(6):
        at = schedule.next_fire("0 * * * *", tz, at)
        seen.append(at)
    assert seen == sorted(set(seen))


# ---- quiet hours --------------------------------------------------------------------------------

def test_overnight_quiet_hours_end_the_next_morning():
    quiet = schedule.parse_quiet_hours({"start": "22:00", "end": "08:00"})
    tz = "Asia/Shanghai"
    at_23 = datetime(2025, 6, 2, 15, 0, tzinfo=UTC)   # 23:00 local
    at_07 = datetime(2025, 6, 2, 23, 0, tzinfo=UTC)   # 07:00 local next day
    assert schedule.quiet_until(at_23, quiet, tz) == datetime(2025, 6, 3, 0, 0, tzinfo=UTC)
    assert schedule.quiet_until(at_07, quiet, tz) == datetime(2025, 6, 3, 0, 0, tzinfo=UTC)
    assert schedule.quiet_until(NOW, quiet, tz) is None   # 10:00 local
    assert schedule.quiet_until(datetime(2025, 6, 3, 0, 0, tzinfo=UTC), quiet, tz) is None


def test_daytime_quiet_hours_and_none():
    quiet = schedule.parse_quiet_hours({"start": "09:00", "end": "11:00"})
    assert schedule.quiet_until(NOW, quiet, "Asia/Shanghai") == datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
    assert schedule.quiet_until(NOW, None, "Asia/Shanghai") is None


@pytest.mark.parametrize("value", [{"start": "22:00"}, {"start": "24:00", "end": "08:00"},
                                   {"start": "8:00", "end": "09:00"}, "22-08",
                                   {"start": "08:00", "end": "08:00"}, True])
def test_bad_quiet_hours_are_refused(value):
    with pytest.raises(ValidationFailed) as err:
        schedule.parse_quiet_hours(value)
    assert err.value.code == "invalid-quiet-hours"


def test_quiet_hours_false_and_null_are_kept_apart():
    assert schedule.parse_quiet_hours(False) is False
    assert schedule.parse_quiet_hours(None) is None


# ---- caps ---------------------------------------------------------------------------------------

def test_periods_are_local_days_and_iso_weeks():
    # 2025-06-01 23:30 UTC is Monday 2025-06-02 07:30 in Shanghai, a Sunday in UTC.
    p = schedule.periods(datetime(2025, 6, 1, 23, 30, tzinfo=UTC), "Asia/Shanghai")
    assert (p.day, p.week) == ("2025-06-02", "2025-W23")
    assert "2025-06-01" in p.stale and "2025-W22" in p.stale and p.day not in p.stale
    assert schedule.periods(datetime(2025, 6, 1, 23, 30, tzinfo=UTC), "UTC").week == "2025-W22"


def test_effective_caps_layer_campaign_over_channel_over_tenant():
    assert rules.effective_caps(None, None, None) == rules.Caps(2, 6)
    assert rules.effective_caps({"per_day": 3}, {"per_week": 4}, None) == rules.Caps(3, 4)
    assert rules.effective_caps({"per_day": 3}, {"per_day": 1}, {"per_day": None}) == rules.Caps(None, 6)


@pytest.mark.parametrize("value", [{"per_day": 0}, {"per_day": "2"}, {"per_week": True},
                                   {"per_month": 1}, [1]])
def test_bad_caps_are_refused(value):
    with pytest.raises(ValidationFailed):
        rules.parse_caps(value)


def counter(per_day=2, per_week=3):
    return frequency.Counter("outbox", rules.Caps(per_day, per_week), NOW, "Asia/Shanghai")


def test_counter_refuses_over_the_day_or_week_cap():
    c = counter()
    item = {"pk": {"S": "t#u"}}
    assert c.refusal(item, "r:1") is None
    item = c.counted(c.counted(item, "r:1"), "r:2")
    assert item[c.day] == {"N": "2"} and item[c.week] == {"N": "2"}
    assert c.refusal(item, "r:3") == "capped_day"
    assert c.refusal(item, "r:2") is None  # the batch that counted it finishes its own work
    tomorrow = frequency.Counter("outbox", rules.Caps(2, 3), NOW + timedelta(days=1), "Asia/Shanghai")
    item = tomorrow.counted(item, "r:3")
    assert tomorrow.refusal(item, "r:4") == "capped_week"
    assert c.day not in item  # yesterday's day counter was cleaned up
    assert counter(None, None).refusal(item, "r:5") is None


def test_counting_is_idempotent_per_batch_and_keeps_other_channels():
    c = counter()
    item = {"pk": {"S": "t#u"}, "d:wecom:2025-06-02": {"N": "1"}}
    once = c.counted(item, "r:1")
    assert c.counted(once, "r:1") == once
    assert once["d:wecom:2025-06-02"] == {"N": "1"}


def test_skip_reason_from_old_contact_values():
    caps = rules.Caps(1, 5)
    assert rules.skip_reason({"unsub_at": "x"}, "d", "w", caps) == "unsubscribed"
    assert rules.skip_reason({"d": "1"}, "d", "w", caps) == "capped_day"
    assert rules.skip_reason({"d": "0", "w": "5"}, "d", "w", caps) == "capped_week"
    assert rules.skip_reason({}, "d", "w", caps) == "raced"


# ---- audiences and messages ---------------------------------------------------------------------

def test_audience_is_normalised_and_checked():
    aud = rules.parse_audience({"tags_all": ["护眼", "VIP"], "stages": ["active"]})
    assert aud == {"tags_all": ["护眼", "vip"], "tags_any": [], "tags_none": [], "stages": ["active"]}
    assert rules.parse_audience(None)["tags_all"] == []
    assert rules.matches(aud, ["vip", "护眼", "x"], "active")
    assert not rules.matches(aud, ["vip"], "active")
    assert not rules.matches(aud, ["vip", "护眼"], "silent")
    assert rules.matches({"tags_none": ["a"]}, ["b"], "new")
    assert not rules.matches({"tags_any": ["a", "b"], "tags_none": ["c"]}, ["b", "c"], "new")


@pytest.mark.parametrize("value, field", [
    ({"stages": ["sleeping"]}, "audience.stages"), ({"tags_all": "vip"}, "audience.tags_all"),
    ({"tags_any": ["a,b"]}, "audience.tags_any"), ({"tags_all": ["a"], "tags_none": ["A"]},
                                                   "audience.tags_none"),
    ({"segment": 1}, "audience.segment"), ([], "audience")])
def test_bad_audiences_name_the_field(value, field):
    with pytest.raises(ValidationFailed) as err:
        rules.parse_audience(value)
    assert err.value.field == field


def test_message_needs_text_or_content():
    assert rules.parse_message({"text": " hi "}) == {"content_id": None, "text": "hi"}
    for bad in ({}, {"text": ""}, {"text": "x" * 2001}, {"html": "x"}):
        with pytest.raises(ValidationFailed):
            rules.parse_message(bad)


# ---- links --------------------------------------------------------------------------------------

def test_links_are_found_and_rewritten_keeping_punctuation():
    text = "双11 福利：https://ex.com/a?x=1，再看 http://ex.com/b). 又 https://ex.com/a?x=1!"
    found = links.find(text)
    assert found == ["https://ex.com/a?x=1", "http://ex.com/b"]
    out = links.rewrite(text, found, lambda i: f"<{i}>")
    assert out == "双11 福利：<0>，再看 <1>). 又 <0>!"
    assert links.rewrite("no links", found, lambda i: "x") == "no links"


def test_click_tokens_round_trip_and_refuse_tampering():
    click = links.Click("tenant01", "camp000001", "m123", "00000.00", "user00000001", 2)
    token = links.token("secret", click)
    assert links.parse("secret", token) == click
    assert links.parse("other", token) is None
    payload, sig = token.split(".")
    forged = links.token("secret", click._replace(link=3)).split(".")[0] + "." + sig
    assert links.parse("secret", forged) is None
    assert links.parse("secret", "garbage") is None and links.parse("secret", "") is None


# ---- rows → stats -------------------------------------------------------------------------------

def test_rows_count_once_when_they_change_state():
    now = NOW
    rows = {"a": batches.row("s", now), "b": batches.row("k", now, "capped_day"),
            "c": batches.row("d", now, "quiet_hours_deferred"), "e": batches.row("c", now)}
    assert batches.counts_of(rows, {}) == {"sent": 1, "skip_capped_day": 1, "deferred": 1}
    assert batches.counts_of(rows, rows) == {}
    assert batches.counts_of({"c": batches.row("s", now)}, rows) == {"sent": 1}
