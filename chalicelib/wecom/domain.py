"""企业微信: verified callbacks and contact-way clean-ups, off the request path."""
from __future__ import annotations

from chalicelib.domain import Domain
from chalicelib.wecom.routes import routes

DOMAIN = Domain("wecom", routes, spec="chalicelib.wecom.spec", models="chalicelib.wecom.models")


@DOMAIN.consumer("wecom_callback", name="chalicelib.wecom.consumers:handle_callbacks")
def handle_callbacks(payloads: list[dict]) -> None:
    from chalicelib.wecom import consumers

    consumers.handle_callbacks(payloads)


@DOMAIN.consumer("wecom_cleanup", name="chalicelib.wecom.consumers:handle_cleanup")
def handle_cleanup(payloads: list[dict]) -> None:
    from chalicelib.wecom import consumers

    consumers.handle_cleanup(payloads)
