"""The campaigns' one clock (tests move it instead of sleeping)."""
from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)
