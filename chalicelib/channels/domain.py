"""Message channels (shared by campaigns and fission): the outbox table, no routes."""
from __future__ import annotations

from chalicelib.domain import Domain

DOMAIN = Domain("channels", models="chalicelib.channels.models")
