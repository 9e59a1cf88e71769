"""Daily capacity and backup targets (pure routing; counts come from the caller)."""
from datetime import datetime, timezone

from chalicelib.livecodes import counters
from chalicelib.livecodes.routing import Rules, Target, choose, remaining_capacity, sticky, with_room

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def test_a_target_at_its_daily_capacity_is_skipped_until_the_count_restarts():
    capped = Target("a", kind="staff", daily_capacity=3, assigned_today=3)
    rules = Rules(targets=(capped, Target("b")))
    assert choose(rules, NOW).target.id == "b"
    fresh_day = Rules(targets=(capped._replace(assigned_today=0), Target("b")))
    assert choose(fresh_day, NOW).target.id == "a"


def test_daily_and_lifetime_capacity_both_bind():
    lifetime_full = Target("a", capacity=5, assigned=5, daily_capacity=10, assigned_today=0)
    assert lifetime_full.full() and not lifetime_full.full_today()
    daily_full = Target("a", capacity=50, assigned=5, daily_capacity=2, assigned_today=2)
    assert daily_full.full() and daily_full.full_today()
    # the lifetime remaining ignores the day's cap
    assert remaining_capacity(Rules(targets=(daily_full,)), NOW) == 45


def test_backups_take_over_only_when_no_primary_has_room():
    a = Target("a", kind="staff", daily_capacity=2, assigned_today=1)
    backup = Target("bk", kind="staff", backup=True)
    rules = Rules(targets=(backup, a), fallback=Target("fb"))
    assert choose(rules, NOW).target.id == "a"  # a backup listed first still waits
    capped = Rules(targets=(backup, a._replace(assigned_today=2)), fallback=Target("fb"))
    decision = choose(capped, NOW)
    assert decision.target.id == "bk" and not decision.fallback
    no_backup_room = Rules(targets=(backup._replace(capacity=1, assigned=1),
                                    a._replace(assigned_today=2)), fallback=Target("fb"))
    assert choose(no_backup_room, NOW).fallback


def test_backups_follow_the_strategy_among_themselves():
    rules = Rules(strategy="round_robin", seq=1, targets=(
        Target("a", daily_capacity=1, assigned_today=1), Target("b1", backup=True),
        Target("b2", backup=True)))
    assert [t.id for t in with_room(rules.targets, NOW)] == ["b1", "b2"]
    assert choose(rules, NOW).target.id == "b2"


def test_a_returning_visitor_keeps_a_daily_capped_target():
    rules = Rules(targets=(Target("a", daily_capacity=1, assigned_today=1),))
    assert sticky(rules, "a", NOW).id == "a"


def test_shards_only_for_large_lifetime_capacities():
    assert counters.shards_for(None, None) == 1
    assert counters.shards_for(1000, None) == 1
    assert counters.shards_for(1001, None) == 2
    assert counters.shards_for(10**6, None) == counters.MAX_SHARDS
    assert counters.shards_for(10**6, 500) == 1  # a daily cap is exact on one item
    assert counters.shares(10, 3) == [4, 3, 3] and sum(counters.shares(7, 7)) == 7


def test_shard_state_by_day():
    s = counters.Shard(n=3, cap=10, day="2026-11-23", dn=2, dcap=2)
    assert s.full("2026-11-23") and not s.full("2026-11-24")
    assert s.today("2026-11-24") == 0
    assert s.full_today("2026-11-22")  # the counter moved on: nothing left for a late claim
