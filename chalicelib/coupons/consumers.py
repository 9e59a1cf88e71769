"""Events that move coupons: a ``coupon_redeemed`` user event (``POST /v1/events`` with
``properties.code``) redeems the code's grant, like ``POST /v1/coupons/redemptions``."""
from __future__ import annotations

import logging

from chalicelib.errors import DomainError

log = logging.getLogger("yutang.coupons")
REDEEMED = "coupon_redeemed"


def on_user_events(payloads: list[dict]) -> None:
    from chalicelib.coupons import service

    for p in payloads:
        code = (p.get("properties") or {}).get("code")
        if p.get("event_type") != REDEEMED or not p.get("tenant_id") or not isinstance(code, str):
            continue
        try:
            service.redeem_code(p["tenant_id"], code)
        except DomainError as exc:  # an unknown code is the sender's mistake, not a retry
            log.warning("coupon_redeemed for %r ignored: %s", code[:64], exc)
