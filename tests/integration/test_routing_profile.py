"""A known customer's tags and stage for routing (moto): one call, merges followed, thresholds."""
from datetime import datetime, timedelta, timezone

from bench.common import CallCounter
from chalicelib.audience import identities, thresholds, users
from chalicelib.audience.profiles import routing_profile

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def test_tags_and_stage_in_one_call_cold_or_warm(tenant):
    tid = tenant["tenant_id"]
    user = users.create_user(tid, {"openid": "o-prof-1"}, ["vip"], now=NOW - timedelta(days=10))
    thresholds.set_thresholds(tid, {"new_days": 30})  # 10 days old: still "new" by this tenant
    thresholds.clear_caches()
    for expect_batch in (True, False):
        with CallCounter() as calls:
            found = routing_profile(tid, user["id"], NOW)
        assert found == (frozenset({"vip"}), "new")
        assert sum(calls.calls.values()) == 1, calls.calls
        assert ("BatchGetItem" in calls.calls) is expect_batch


def test_an_unknown_or_malformed_user_has_no_profile(tenant):
    assert routing_profile(tenant["tenant_id"], "zzzzzzzzzzzz", NOW) is None
    assert routing_profile(tenant["tenant_id"], "../../x", NOW) is None


def test_a_merged_away_user_answers_the_survivor(tenant):
    tid = tenant["tenant_id"]
    first = users.create_user(tid, {"openid": "o-prof-a"}, ["old"], now=NOW - timedelta(days=40))
    second = users.create_user(tid, {"unionid": "u-prof-b"}, ["vip"], now=NOW - timedelta(days=2))
    identities.merge_users(tid, first["id"], second["id"])
    tags, stage = routing_profile(tid, second["id"], NOW)
    # the survivor: both users' tags, first seen 40 days ago, last active 2 days ago
    assert (tags, stage) == ({"old", "vip"}, "active")
