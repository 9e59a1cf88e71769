"""Smart push and coupons over HTTP: a smart-push message is validated with named 400s, its run's
deliveries show each pick; coupon pools are created, granted through a campaign, listed with
stats and redeemed by route and by a ``coupon_redeemed`` event; another tenant sees none of it."""
from __future__ import annotations

import pytest

from chalicelib.audience import users as audience
from tests.api.test_campaigns_api import call, drain

SMART = {"pick": "best_match", "pool": {"tags_any": ["护眼"]}, "text": "为你推荐"}


def campaign(client, tenant, message):
    return call(client, "post", "/v1/campaigns", tenant, {
        "name": "千人千面", "audience": {"tags_all": ["vip"]}, "message": message})


@pytest.mark.parametrize("message, field", [
    ({**SMART, "pick": "random"}, "message.pick"),
    ({"pick": "best_match", "text": "x"}, "message.pool"),
    ({**SMART, "pool": {"tags_any": ["护眼"], "type": "poster"}}, "message.pool.type"),
    ({**SMART, "avoid_sent_within_days": -1}, "message.avoid_sent_within_days"),
    ({**SMART, "fallback_content_id": "nope"}, "message.fallback_content_id"),
    ({**SMART, "coupon": {"pool_id": "nope"}}, "message.coupon.pool_id"),
])
def test_invalid_smart_messages_are_400_naming_the_field(app_client, tenant, message, field):
    status, body = campaign(app_client, tenant, message)
    assert status == 400 and body["error"]["field"] == field, body


def test_deliveries_show_each_recipients_pick(app_client, tenant):
    tid = tenant["tenant_id"]
    status, item = call(app_client, "post", "/v1/contents", tenant, {
        "type": "article", "title": "护眼", "url": "https://example.com/eye", "tags": ["护眼"]})
    assert status == 201
    user = audience.create_user(tid, {"brand_user_id": "b-1"}, tags=["vip"])["id"]
    audience.tag_user(tid, user, ["护眼"], source="interest")
    status, c = campaign(app_client, tenant, SMART)
    assert status == 201 and c["message"]["pool"] == {"tags_any": ["护眼"], "type": None}
    call(app_client, "post", f"/v1/campaigns/{c['id']}/run", tenant)
    drain()
    status, page = call(app_client, "get", f"/v1/campaigns/{c['id']}/deliveries", tenant)
    assert status == 200
    assert page["items"][0]["pick"] == {"content_id": item["id"], "reason": "best_match",
                                        "score": 1, "matched_tags": ["护眼"],
                                        "skipped_recent": []}


def test_coupon_pools_grants_and_redemptions(app_client, tenant, other_tenant):
    tid = tenant["tenant_id"]
    status, pool = call(app_client, "post", "/v1/coupons", tenant,
                        {"name": "首单券", "generate": {"pattern": "NEW-######", "count": 5}})
    assert status == 201 and (pool["kind"], pool["size"], pool["left"]) == ("generated", 5, 5)
    user = audience.create_user(tid, {"brand_user_id": "b-2"}, tags=["vip"])["id"]
    status, c = campaign(app_client, tenant, {"text": "券码 {coupon}",
                                              "coupon": {"pool_id": pool["id"]}})
    assert status == 201, c
    call(app_client, "post", f"/v1/campaigns/{c['id']}/run", tenant)
    drain()
    _, page = call(app_client, "get", f"/v1/campaigns/{c['id']}/deliveries", tenant)
    code = page["items"][0]["coupon"]
    assert code.startswith("NEW-")
    _, grants = call(app_client, "get", f"/v1/coupons/{pool['id']}/grants", tenant)
    assert [(g["person"], g["code"], g["status"]) for g in grants["items"]] == [
        (user, code, "issued")]
    status, body = call(app_client, "post", "/v1/coupons/redemptions", other_tenant,
                        {"code": code})
    assert status == 404 and body["error"]["code"] == "coupon-code-not-found"
    status, redeemed = call(app_client, "post", "/v1/coupons/redemptions", tenant,
                            {"code": code, "user_id": user})
    assert status == 200 and redeemed["status"] == "redeemed"
    _, stats = call(app_client, "get", f"/v1/coupons/{pool['id']}", tenant)
    assert (stats["issued"], stats["redeemed"], stats["left"]) == (1, 1, 4)
    status, listed = call(app_client, "get", "/v1/coupons", other_tenant)
    assert status == 200 and listed["items"] == []
    status, body = call(app_client, "get", f"/v1/coupons/{pool['id']}", other_tenant)
    assert status == 404 and body["error"]["code"] == "coupon-pool-not-found"


def test_uploaded_pools_take_more_codes_and_refuse_bad_ones(app_client, tenant):
    status, pool = call(app_client, "post", "/v1/coupons", tenant,
                        {"name": "券", "codes": ["AAAA-1", "AAAA-2"]})
    assert status == 201 and pool["size"] == 2
    status, more = call(app_client, "post", f"/v1/coupons/{pool['id']}/codes", tenant,
                        {"codes": ["AAAA-3"]})
    assert status == 200 and more["left"] == 3
    status, body = call(app_client, "post", f"/v1/coupons/{pool['id']}/codes", tenant,
                        {"codes": ["AAAA-1"]})
    assert status == 409 and body["error"]["code"] == "duplicate-coupon-code"
    status, body = call(app_client, "post", "/v1/coupons", tenant, {"name": "x"})
    assert status == 400 and body["error"]["code"] == "invalid-coupon-pool"
    status, body = call(app_client, "post", "/v1/coupons", tenant,
                        {"name": "x", "generate": {"pattern": "BAD", "count": 1}})
    assert status == 400 and body["error"]["code"] == "invalid-coupon-pattern"
