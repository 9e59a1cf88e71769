"""A fission reward from a coupon pool: GIVEN a task whose reward names a pool of one code, WHEN
two participants reach the goal (the events replayed), THEN the first gets the code in their
reward message once, the second is rewarded without one (codes-exhausted), and the pool counts
one grant in scope ``fission:<task>``."""
from __future__ import annotations

import pytest

from chalicelib.coupons import service as coupons
from chalicelib.errors import ValidationFailed
from chalicelib.fission import consumers
from tests.integration.test_fission_notices import outbox, world  # noqa: F401


def test_the_reward_code_comes_from_the_coupon_pool_once(world):  # noqa: F811
    pool = coupons.create_pool(world.tid, {"name": "赠书券", "codes": ["GIFT-1"]})
    task = world.task(codes=[], coupon_pool_id=pool["id"])
    assert task["reward"]["coupon_pool_id"] == pool["id"]
    first, second = world.join(task, "小明", user_id=world.user()), world.join(task, "小红")
    event = world.scan(first)
    assert consumers.record_scan(event) == "counted+rewarded"
    assert consumers.record_scan(event) == "duplicate"
    assert consumers.record_scan(world.scan(second)) == "counted+rewarded"
    assert world.reward(task, first)["code"] == "GIFT-1"
    assert world.reward(task, first)["message"] == "恭喜小明，兑换码 GIFT-1"
    assert (world.reward(task, second)["code"], world.reward(task, second)["note"]) == (
        None, "codes-exhausted")
    grants = coupons.list_grants(world.tid, pool["id"])["items"]
    assert [(g["scope"], g["person"], g["code"]) for g in grants] == [
        (f"fission:{task['id']}", first["participant_id"], "GIFT-1")]
    assert [o.text for o in outbox(world.tid)] == ["恭喜小明，兑换码 GIFT-1"]


def test_a_reward_pool_must_be_the_tenants_own_and_not_beside_codes(world, other_tenant):  # noqa: F811
    theirs = coupons.create_pool(other_tenant["tenant_id"], {"name": "x", "codes": ["XX-11"]})
    with pytest.raises(ValidationFailed) as err:
        world.task(codes=[], coupon_pool_id=theirs["id"])
    assert (err.value.code, err.value.field) == ("coupon-pool-not-found",
                                                 "reward.coupon_pool_id")
    mine = coupons.create_pool(world.tid, {"name": "y", "codes": ["YY-11"]})
    with pytest.raises(ValidationFailed):
        world.task(coupon_pool_id=mine["id"])  # with the default codes too
