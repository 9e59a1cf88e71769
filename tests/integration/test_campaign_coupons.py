"""Coupons in campaign messages on moto: GIVEN a pool of 2 codes and 3 recipients, WHEN the
campaign runs (twice, and its batch is replayed), THEN two recipients get a code in their message
and on their delivery row, the third is skipped ``coupons_exhausted``, and a person keeps their
one code across runs and replays."""
from __future__ import annotations

import pytest

from chalicelib.campaigns import service
from chalicelib.channels.models import OutboxItem
from chalicelib.coupons import service as coupons
from chalicelib.errors import ValidationFailed
from tests.integration.test_campaigns_service import drain, now, tid, users  # noqa: F401


def test_each_recipient_gets_one_code_once_per_campaign(tid, now):  # noqa: F811
    pool = coupons.create_pool(tid, {"name": "首单券", "codes": ["FIRST-1", "FIRST-2"]})
    people = users(tid, 3, tags=["vip"])
    c = service.create(tid, {"name": "券", "audience": {"tags_all": ["vip"]}, "caps": {
        "per_day": None, "per_week": None}, "message": {
        "text": "首单立减，券码 {coupon}", "coupon": {"pool_id": pool["id"]}}})
    codes_by_run = []
    for _ in range(2):
        run_id = service.run_now(tid, c["id"])
        drain()
        rows = {d["user_id"]: d for d in service.deliveries(tid, c["id"], 10, None,
                                                            run_id=run_id)["items"]}
        codes_by_run.append({u: r["coupon"] for u, r in rows.items() if r["status"] == "sent"})
        skipped = [u for u, r in rows.items() if r["reason"] == "coupons_exhausted"]
        assert len(skipped) == 1 and len(codes_by_run[-1]) == 2
        texts = {o.user_id: o.text for o in OutboxItem.query(
            tid, OutboxItem.sk.startswith(f"{c['id']}#{run_id}#"))}
        assert {texts[u] for u in codes_by_run[-1]} == {f"首单立减，券码 {code}" for code in
                                                         codes_by_run[-1].values()}
    assert codes_by_run[0] == codes_by_run[1]  # the same people, the same codes
    assert sorted(codes_by_run[0].values()) == ["FIRST-1", "FIRST-2"]
    assert set(codes_by_run[0]) <= set(people)
    assert coupons.get_pool(tid, pool["id"])["issued"] == 2


def test_a_message_naming_another_tenants_pool_is_refused(tid, now, other_tenant):  # noqa: F811
    theirs = coupons.create_pool(other_tenant["tenant_id"], {"name": "x", "codes": ["OTHER-1"]})
    with pytest.raises(ValidationFailed) as err:
        service.create(tid, {"name": "券", "message": {"text": "{coupon}", "coupon": {
            "pool_id": theirs["id"]}}})
    assert (err.value.code, err.value.field) == ("coupon-pool-not-found",
                                                 "message.coupon.pool_id")
