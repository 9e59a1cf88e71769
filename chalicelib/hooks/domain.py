"""Event webhooks: every subscribable event (imported history too) fans out to deliveries."""
from __future__ import annotations

from chalicelib.domain import Domain
from chalicelib.events import WEBHOOK_TYPES
from chalicelib.hooks.routes import routes

DOMAIN = Domain("hooks", routes, spec="chalicelib.hooks.spec", models="chalicelib.hooks.models")


@DOMAIN.consumer(*WEBHOOK_TYPES, name="chalicelib.hooks.consumers:on_events", batch=True, history=True)
def on_events(payloads: list[dict]) -> None:
    from chalicelib.hooks import consumers

    consumers.on_events(payloads)
