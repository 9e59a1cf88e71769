"""The scheduler tick (every minute on AWS via EventBridge; the local stack's loop in `make dev`).

Jobs are "module:function" names taking ``now`` and returning a count; each job runs even when an
earlier one fails, and the failure is re-raised at the end so the invocation is marked failed.

``now`` is the time EventBridge scheduled the invocation for (the event's ``time``), so a tick
acts on what was due at its own minute, on AWS and in the local stack alike."""
from __future__ import annotations

import importlib
import logging
from datetime import datetime

from chalicelib import clock

log = logging.getLogger("yutang.scheduler")

JOBS: list[str] = [
    "chalicelib.livecodes.consumers:check_expiring",
    "chalicelib.campaigns.dispatch:run_due",
    "chalicelib.journeys.engine:run_due",
]


def run_tick(now: datetime | str | None = None) -> dict[str, int]:
    """Run every job for ``now`` (a datetime, an EventBridge ``time`` string, or None: the clock)."""
    if isinstance(now, str):
        now = datetime.fromisoformat(now.replace("Z", "+00:00"))
    now = now or clock.now()
    results, errors = {}, []
    for name in JOBS:
        module, _, func = name.partition(":")
        try:
            results[name] = getattr(importlib.import_module(module), func)(now)
        except Exception as exc:  # noqa: BLE001 - other jobs still run; re-raised below
            log.exception("tick job %s failed", name)
            errors.append(exc)
    if errors:
        raise errors[0]
    return results
