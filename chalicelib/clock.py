"""The one clock of the product: every module asks ``clock.now()`` (an aware UTC datetime) at call
time, so tests move time by patching ``chalicelib.clock.now`` instead of sleeping."""
from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)
