"""The scheduler tick (every minute on AWS via EventBridge; the local stack's loop in `make dev`).

Jobs are "module:function" names taking ``now`` and returning a count; each job runs even when an
earlier one fails, and the failure is re-raised at the end so the invocation is marked failed."""
from __future__ import annotations

import importlib
import logging
from datetime import datetime, timezone

log = logging.getLogger("yutang.scheduler")

JOBS: list[str] = [
    "chalicelib.livecodes.warnings:check_expiring",
    "chalicelib.campaigns.dispatch:run_due",
]


def run_tick(now: datetime | None = None) -> dict[str, int]:
    now = now or datetime.now(timezone.utc)
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
