"""Entry domains: the landing domains a tenant lists and the stable entry redirect (``/e/``)."""
from __future__ import annotations

from chalicelib.domain import Domain
from chalicelib.entry.routes import routes

DOMAIN = Domain("entry", routes, spec="chalicelib.entry.spec", models="chalicelib.entry.models")
