"""The audience: scans carrying a user id tag the scanner."""
from __future__ import annotations

from chalicelib.audience.routes import routes
from chalicelib.domain import Domain

DOMAIN = Domain("audience", routes, spec="chalicelib.audience.spec", models="chalicelib.audience.models")


@DOMAIN.consumer("scan", name="chalicelib.audience.consumers:tag_scanners")
def tag_scanners(payloads: list[dict]) -> None:
    from chalicelib.audience import consumers

    consumers.tag_scanners(payloads)
