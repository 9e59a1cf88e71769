"""The content library: routes, OpenAPI parts, tables."""
from __future__ import annotations

from chalicelib.content.routes import routes
from chalicelib.domain import Domain

DOMAIN = Domain("content", routes, spec="chalicelib.content.spec", models="chalicelib.content.models")
