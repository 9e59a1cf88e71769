"""Coupon pools against moto: GIVEN a pool of N codes, WHEN N + k people claim at once (and some
claim twice), THEN exactly N grants are made, no code twice, each person once; redemptions by
route or by a ``coupon_redeemed`` event update the grant and the pool's stats."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib import dispatcher
from chalicelib.coupons import consumers, service
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from tests.support import stack as test_stack

N, EXTRA = 8, 5
CONSUMER = "chalicelib.coupons.consumers:on_user_events"


def claim(tenant, pool_id, person):
    try:
        return service.grant(tenant, pool_id, "campaign:c1", person).code
    except Conflict as exc:
        return exc.code


@pytest.mark.parametrize("kind", ["uploaded", "generated"])
def test_n_codes_and_n_plus_k_claimants_make_exactly_n_grants(kind):
    from chalicelib.auth import service as auth

    with test_stack.moto_over_http():
        tenant = auth.create_tenant("race")["tenant_id"]
        body = ({"codes": [f"CODE-{i:03d}" for i in range(N)]} if kind == "uploaded"
                else {"generate": {"pattern": "R-########", "count": N}})
        pool = service.create_pool(tenant, {"name": "race", **body})
        people = [f"user{i:02d}" for i in range(N + EXTRA)]
        with ThreadPoolExecutor(max_workers=12) as ex:  # everyone twice (a retried sender)
            got = list(ex.map(lambda p: (p, claim(tenant, pool["id"], p)), people + people))
        by_person: dict[str, set] = {}
        for person, code in got:
            by_person.setdefault(person, set()).add(code)
        assert all(len(codes) == 1 for codes in by_person.values())  # the same answer twice
        granted = {p: next(iter(c)) for p, c in by_person.items() if "coupons-exhausted" not in c}
        assert len(granted) == N and len(set(granted.values())) == N
        if kind == "uploaded":
            assert sorted(granted.values()) == [f"CODE-{i:03d}" for i in range(N)]
        stats = service.get_pool(tenant, pool["id"])
        assert (stats["issued"], stats["left"], stats["size"]) == (N, 0, N)
        grants = service.list_grants(tenant, pool["id"])["items"]
        assert sorted((g["person"], g["code"]) for g in grants) == sorted(granted.items())


def test_a_person_has_one_code_per_scope_and_another_in_another(tenant):
    tid = tenant["tenant_id"]
    pool = service.create_pool(tid, {"name": "p", "generate": {"pattern": "G-######",
                                                               "count": 10}})
    first = service.grant(tid, pool["id"], "campaign:a", "u1")
    again = service.grant(tid, pool["id"], "campaign:a", "u1")
    other = service.grant(tid, pool["id"], "fission:t", "u1")
    assert first.new and not again.new and first.code == again.code != other.code


def test_redemption_by_route_then_by_event_is_once_and_counted(tenant):
    tid = tenant["tenant_id"]
    pool = service.create_pool(tid, {"name": "p", "codes": ["AAAA1", "BBBB2"]})
    a = service.grant(tid, pool["id"], "campaign:x", "u1").code
    b = service.grant(tid, pool["id"], "campaign:x", "u2").code
    with pytest.raises(Conflict):
        service.redeem(tid, {"code": a, "user_id": "u2"})
    assert service.redeem(tid, {"code": a, "user_id": "u1"})["status"] == "redeemed"
    assert service.redeem(tid, {"code": a})["status"] == "redeemed"  # a repeat is harmless
    assert CONSUMER in dispatcher.HANDLERS["user_event"]
    consumers.on_user_events([{"tenant_id": tid, "user_id": "u2", "event_type": "coupon_redeemed",
                               "properties": {"code": b}},
                              {"tenant_id": tid, "event_type": "coupon_redeemed",
                               "properties": {"code": "UNKNOWN"}}])  # logged, not raised
    stats = service.get_pool(tid, pool["id"])
    assert (stats["issued"], stats["redeemed"], stats["left"]) == (2, 2, 0)
    with pytest.raises(NotFound):
        service.redeem(tid, {"code": "NOPE1"})


def test_codes_are_unique_per_tenant_and_pools_are_the_tenants_own(tenant, other_tenant):
    tid = tenant["tenant_id"]
    pool = service.create_pool(tid, {"name": "p", "codes": ["SAME-1"]})
    with pytest.raises(Conflict) as err:
        service.create_pool(tid, {"name": "q", "codes": ["SAME-1"]})
    assert err.value.code == "duplicate-coupon-code"
    service.create_pool(other_tenant["tenant_id"], {"name": "p", "codes": ["SAME-1"]})
    with pytest.raises(ValidationFailed) as bad:
        service.check_pool(other_tenant["tenant_id"], pool["id"], "message.coupon.pool_id")
    assert bad.value.code == "coupon-pool-not-found"
    more = service.add_codes(tid, pool["id"], {"codes": ["NEXT-1", "NEXT-2"]})
    assert (more["size"], more["left"]) == (3, 3)
