"""Tenants and API keys: routes, OpenAPI parts, tables."""
from __future__ import annotations

from chalicelib.auth.routes import routes
from chalicelib.domain import Domain

DOMAIN = Domain("auth", routes, spec="chalicelib.auth.spec", models="chalicelib.auth.models")
