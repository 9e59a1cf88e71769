"""Expiry of group QR images and the due index the warning tick reads.

A code sits in the due index at the time the tick should next look at it: ``WARN_AHEAD`` before
its next unwarned expiry. Every write that changes targets moves it (``refresh_due``).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.livecodes.models import LiveCode

GROUP_QR_LIFETIME = timedelta(days=7)  # personal-WeChat group QR images live 7 days
WARN_AHEAD = timedelta(hours=24)


def next_due(code: LiveCode, now: datetime) -> int | None:
    """When the tick should next look at this code: 24 h before its next unwarned expiry."""
    warned = code.warned or set()
    times = [int((t.expires_at - WARN_AHEAD).timestamp()) for t in code.targets or []
             if t.enabled and t.expires_at is not None and t.expires_at > now
             and LiveCode.expiry_warning_key(t) not in warned]
    return min(times) if times else None


def set_due(code: LiveCode, now: datetime) -> None:
    """Place a code not yet written in the due index."""
    code.set_due(next_due(code, now))


def refresh_due(code: LiveCode, now: datetime) -> None:
    """Move the code in the due index after a change; ``code`` is fresh (PynamoDB's update() loads
    DynamoDB's ALL_NEW answer into the model), so nothing is read again."""
    due = next_due(code, now)
    if due != code.due_at:
        code.update(actions=LiveCode.due_actions(due))
