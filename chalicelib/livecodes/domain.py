"""Live codes: uncapped targets' counts and capacity warnings after scans, expiry warnings from
the tick."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain import Domain
from chalicelib.livecodes.routes import routes

DOMAIN = Domain("livecodes", routes, spec="chalicelib.livecodes.spec", models="chalicelib.livecodes.models")


@DOMAIN.consumer("scan", name="chalicelib.livecodes.consumers:check_after_scans", batch=True)
def check_after_scans(payloads: list[dict]) -> None:
    from chalicelib.livecodes import consumers

    consumers.check_after_scans(payloads)


@DOMAIN.consumer("scan", name="chalicelib.livecodes.consumers:count_unlimited", batch=True)
def count_unlimited(payloads: list[dict]) -> None:
    """Visitors placed on targets without a capacity (no write on the request path)."""
    from chalicelib.livecodes import consumers

    consumers.count_unlimited(payloads)


@DOMAIN.job(name="chalicelib.livecodes.consumers:check_expiring")
def check_expiring(now: datetime) -> int:
    from chalicelib.livecodes import consumers

    return consumers.check_expiring(now)
