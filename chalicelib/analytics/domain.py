"""Analytics: every counted event (imported history too) goes to the daily counters."""
from __future__ import annotations

from chalicelib.analytics.routes import routes
from chalicelib.domain import Domain
from chalicelib.events import COUNTED_TYPES

DOMAIN = Domain("analytics", routes, spec="chalicelib.analytics.spec", models="chalicelib.analytics.models")


@DOMAIN.consumer(*COUNTED_TYPES, name="chalicelib.analytics.aggregate:consume", batch=True,
                 history=True)
def consume(payloads: list[dict]) -> None:
    from chalicelib.analytics import aggregate

    aggregate.consume(payloads)
