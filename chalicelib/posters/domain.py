"""Poster templates: routes, OpenAPI parts, tables (changes reach fission as events)."""
from __future__ import annotations

from chalicelib.domain import Domain
from chalicelib.posters.routes import routes

DOMAIN = Domain("posters", routes, spec="chalicelib.posters.spec", models="chalicelib.posters.models")
