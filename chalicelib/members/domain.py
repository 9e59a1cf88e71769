"""Team members and sessions: routes, OpenAPI parts, tables."""
from __future__ import annotations

from chalicelib.domain import Domain
from chalicelib.members.routes import routes

DOMAIN = Domain("members", routes, spec="chalicelib.members.spec", models="chalicelib.members.models")
