"""Coupons: pools of codes granted once per person; ``coupon_redeemed`` user events redeem them."""
from __future__ import annotations

from chalicelib.coupons.routes import routes
from chalicelib.domain import Domain

DOMAIN = Domain("coupons", routes, spec="chalicelib.coupons.spec", models="chalicelib.coupons.models")


@DOMAIN.consumer("user_event", name="chalicelib.coupons.consumers:on_user_events")
def on_user_events(payloads: list[dict]) -> None:
    from chalicelib.coupons import consumers

    consumers.on_user_events(payloads)
