"""The mini-program API: routes, OpenAPI parts, tables."""
from __future__ import annotations

from chalicelib.domain import Domain
from chalicelib.mp.routes import routes

DOMAIN = Domain("mp", routes, spec="chalicelib.mp.spec", models="chalicelib.mp.models")
