"""Fission tasks: invites counted from scans; poster template changes taken over."""
from __future__ import annotations

from chalicelib.domain import Domain
from chalicelib.fission.routes import routes

DOMAIN = Domain("fission", routes, spec="chalicelib.fission.spec", models="chalicelib.fission.models")


@DOMAIN.consumer("scan", name="chalicelib.fission.consumers:record_scans", batch=True)
def record_scans(payloads: list[dict]) -> None:
    from chalicelib.fission import consumers

    consumers.record_scans(payloads)


@DOMAIN.consumer("template_changed", name="chalicelib.fission.consumers:on_template_changed")
def on_template_changed(payloads: list[dict]) -> None:
    from chalicelib.fission import consumers

    consumers.on_template_changed(payloads)
