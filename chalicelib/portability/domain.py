"""Data portability: scans are logged per batch for the scans export."""
from __future__ import annotations

from chalicelib.domain import Domain
from chalicelib.portability.routes import routes

DOMAIN = Domain("portability", routes,
                spec="chalicelib.portability.spec", models="chalicelib.portability.models")


@DOMAIN.consumer("scan", name="chalicelib.portability.scanlog:record_scans", batch=True)
def record_scans(payloads: list[dict]) -> None:
    from chalicelib.portability import scanlog

    scanlog.record_scans(payloads)
