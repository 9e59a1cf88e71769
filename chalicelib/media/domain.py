"""Media objects: public routes only."""
from __future__ import annotations

from chalicelib.domain import Domain
from chalicelib.media.routes import routes

DOMAIN = Domain("media", routes)
