"""Journeys: events enter people, wait for events and convert them; the tick advances due steps."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain import Domain
from chalicelib.events import USER_EVENT_TYPES
from chalicelib.journeys.routes import routes

DOMAIN = Domain("journeys", routes, spec="chalicelib.journeys.spec", models="chalicelib.journeys.models")
# The audience-backed events plus the tag and stage changes a journey may enter on.
ENTRY_EVENT_TYPES = (*USER_EVENT_TYPES, "tag_added", "stage_changed")


@DOMAIN.consumer(*ENTRY_EVENT_TYPES, name="chalicelib.journeys.consumers:on_events")
def on_events(payloads: list[dict]) -> None:
    """Entries, waits for events, goals."""
    from chalicelib.journeys import consumers

    consumers.on_events(payloads)


@DOMAIN.job(name="chalicelib.journeys.engine:run_due")
def run_due(now: datetime) -> int:
    from chalicelib.journeys import engine

    return engine.run_due(now)
