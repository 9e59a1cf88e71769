"""Campaigns: the tick fires what is due; user events start after-event campaigns."""
from __future__ import annotations

from datetime import datetime

from chalicelib.campaigns.routes import routes
from chalicelib.domain import Domain
from chalicelib.events import USER_EVENT_TYPES

DOMAIN = Domain("campaigns", routes, spec="chalicelib.campaigns.spec", models="chalicelib.campaigns.models")


@DOMAIN.consumer(*USER_EVENT_TYPES, name="chalicelib.campaigns.dispatch:on_user_events")
def on_user_events(payloads: list[dict]) -> None:
    from chalicelib.campaigns import dispatch

    dispatch.on_user_events(payloads)


@DOMAIN.job(name="chalicelib.campaigns.dispatch:run_due")
def run_due(now: datetime) -> int:
    from chalicelib.campaigns import dispatch

    return dispatch.run_due(now)
