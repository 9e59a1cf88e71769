"""Live codes: capacity warnings after scans, expiry warnings from the tick."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain import Domain
from chalicelib.livecodes.routes import routes

DOMAIN = Domain("livecodes", routes, spec="chalicelib.livecodes.spec", models="chalicelib.livecodes.models")


@DOMAIN.consumer("scan", name="chalicelib.livecodes.consumers:check_after_scans")
def check_after_scans(payloads: list[dict]) -> None:
    from chalicelib.livecodes import consumers

    consumers.check_after_scans(payloads)


@DOMAIN.job(name="chalicelib.livecodes.consumers:check_expiring")
def check_expiring(now: datetime) -> int:
    from chalicelib.livecodes import consumers

    return consumers.check_expiring(now)
