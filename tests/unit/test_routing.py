"""Routing rules, one by one and combined (pure; no AWS)."""
import random
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.livecodes.routing import (
    Rules,
    Target,
    choose,
    expiring_soon,
    in_windows,
    parse_window,
    remaining_capacity,
    sticky,
)

# 2026-11-23 is a Monday; 10:00 in Shanghai is 02:00 UTC.
MON_10_SH = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
NOW = MON_10_SH


def t(id, **kw):
    return Target(id=id, **kw)


def test_fill_takes_first_eligible_in_order():
    rules = Rules(targets=(t("a", capacity=2, assigned=2), t("b", capacity=5), t("c")))
    assert choose(rules, NOW).target.id == "b"


def test_fill_skips_disabled_expired_and_full():
    rules = Rules(targets=(t("a", enabled=False), t("b", expires_at=NOW - timedelta(seconds=1)),
                           t("c", capacity=1, assigned=1), t("d")))
    assert choose(rules, NOW).target.id == "d"


def test_expiry_is_exclusive_at_the_instant():
    assert choose(Rules(targets=(t("a", expires_at=NOW),)), NOW).target is None
    assert choose(Rules(targets=(t("a", expires_at=NOW + timedelta(seconds=1)),)), NOW).target.id == "a"


def test_no_capacity_means_unlimited():
    assert choose(Rules(targets=(t("a", assigned=10**6),)), NOW).target.id == "a"


def test_round_robin_rotates_over_eligible_targets_by_sequence():
    targets = (t("a"), t("b", enabled=False), t("c"), t("d"))
    picks = [choose(Rules(strategy="round_robin", targets=targets, seq=s), NOW).target.id
             for s in range(6)]
    assert picks == ["a", "c", "d", "a", "c", "d"]


def test_weighted_follows_weights_and_ignores_zero_weight():
    rules = Rules(strategy="weighted", targets=(t("a", weight=1), t("b", weight=3), t("z", weight=0)))
    rng = random.Random(7)
    counts = {"a": 0, "b": 0, "z": 0}
    for _ in range(4000):
        counts[choose(rules, NOW, rng).target.id] += 1
    assert counts["z"] == 0
    assert 2.6 < counts["b"] / counts["a"] < 3.4


def test_weighted_all_zero_weights_still_answers():
    rules = Rules(strategy="weighted", targets=(t("a", weight=0), t("b", weight=0)))
    assert choose(rules, NOW, random.Random(1)).target.id == "a"


def test_fallback_when_nothing_eligible():
    rules = Rules(targets=(t("a", capacity=1, assigned=1),), fallback=t("fb", kind="staff"))
    d = choose(rules, NOW)
    assert (d.target.id, d.fallback, d.reason) == ("fb", True, "no-target-available")


def test_no_fallback_and_nothing_eligible():
    d = choose(Rules(targets=(t("a", enabled=False),)), NOW)
    assert d.target is None and d.reason == "no-target-available"


def test_fallback_itself_must_be_eligible():
    rules = Rules(targets=(), fallback=t("fb", expires_at=NOW - timedelta(days=1)))
    assert choose(rules, NOW).target is None


def test_outside_windows_goes_to_fallback_even_with_free_targets():
    rules = Rules(targets=(t("a"),), fallback=t("fb"),
                  windows=(parse_window({"days": [1], "start": "12:00", "end": "18:00"}),))
    d = choose(rules, NOW)
    assert (d.target.id, d.reason) == ("fb", "outside-hours")


def test_inside_window_in_the_codes_timezone():
    window = parse_window({"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"})
    rules = Rules(targets=(t("a"),), windows=(window,))
    assert choose(rules, NOW).target.id == "a"  # 10:00 Shanghai, Monday
    rules_ny = Rules(targets=(t("a"),), windows=(window,), timezone="America/New_York")
    assert choose(rules_ny, NOW).target is None  # Sunday 21:00 in New York


def test_window_end_is_exclusive_and_24_00_means_midnight():
    w = parse_window({"days": [1], "start": "09:00", "end": "10:00"})
    assert not in_windows(Rules(windows=(w,)), NOW)
    w2 = parse_window({"days": [1], "start": "09:00", "end": "24:00"})
    assert in_windows(Rules(windows=(w2,)), NOW)


def test_overnight_window_spans_midnight_from_its_start_day():
    w = parse_window({"days": [7], "start": "22:00", "end": "02:00"})  # Sunday night
    monday_01 = datetime(2026, 11, 22, 17, 0, tzinfo=timezone.utc)  # Mon 01:00 Shanghai
    monday_03 = datetime(2026, 11, 22, 19, 0, tzinfo=timezone.utc)
    assert in_windows(Rules(windows=(w,)), monday_01)
    assert not in_windows(Rules(windows=(w,)), monday_03)


def test_any_of_several_windows_suffices():
    ws = (parse_window({"days": [2], "start": "00:00", "end": "24:00"}),
          parse_window({"days": [1], "start": "09:30", "end": "10:30"}))
    assert in_windows(Rules(windows=ws), NOW)


@pytest.mark.parametrize("raw", [
    {"days": []}, {"days": [0]}, {"days": [8]}, {"days": "1"}, {"days": [True]},
    {"start": "9:00"}, {"start": "25:00"}, {"end": "10:61"}, {"start": "10:00", "end": "10:00"},
])
def test_bad_windows_are_refused(raw):
    with pytest.raises(ValueError):
        parse_window(raw)


def test_sticky_keeps_target_even_when_full():
    rules = Rules(targets=(t("a", capacity=1, assigned=1), t("b")))
    assert sticky(rules, "a", NOW).id == "a"


def test_sticky_drops_disabled_expired_unknown_and_fallback():
    rules = Rules(targets=(t("a", enabled=False), t("b", expires_at=NOW)), fallback=t("fb"))
    assert sticky(rules, "a", NOW) is None
    assert sticky(rules, "b", NOW) is None
    assert sticky(rules, "zz", NOW) is None
    assert sticky(rules, "fb", NOW) is None


def test_sticky_respects_windows():
    w = parse_window({"days": [2], "start": "00:00", "end": "24:00"})
    assert sticky(Rules(targets=(t("a"),), windows=(w,)), "a", NOW) is None


def test_remaining_capacity_counts_available_targets_only():
    rules = Rules(targets=(t("a", capacity=10, assigned=4), t("b", capacity=5, assigned=5),
                           t("c", capacity=9, enabled=False)))
    assert remaining_capacity(rules, NOW) == 6
    assert remaining_capacity(Rules(targets=(t("a", capacity=1), t("u"))), NOW) is None


def test_expiring_soon_within_24h_only():
    rules = Rules(targets=(t("a", expires_at=NOW + timedelta(hours=23)),
                           t("b", expires_at=NOW + timedelta(hours=25)),
                           t("c", expires_at=NOW - timedelta(hours=1)),
                           t("d", expires_at=NOW + timedelta(hours=1), enabled=False)))
    assert [x.id for x in expiring_soon(rules, NOW)] == ["a"]


def test_combination_round_robin_with_capacity_expiry_and_fallback():
    targets = (t("a", capacity=1, assigned=1), t("b"), t("c", expires_at=NOW), t("d"))
    rules = Rules(strategy="round_robin", targets=targets, fallback=t("fb"), seq=1)
    assert choose(rules, NOW).target.id == "d"
    exhausted = Rules(strategy="round_robin", targets=targets[:1] + targets[2:3], fallback=t("fb"))
    assert choose(exhausted, NOW).target.id == "fb"
