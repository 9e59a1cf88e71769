"""The scheduler tick (every minute on AWS via EventBridge; the local stack's loop in `make dev`).

The jobs are declared by the domains (``jobs`` in chalicelib/<pkg>/domain.py, in the order of
chalicelib/domains.py): each takes ``now`` and returns a count; each runs even when an earlier one
fails, and the failure is re-raised at the end so the invocation is marked failed.

``now`` is the time EventBridge scheduled the invocation for (the event's ``time``), so a tick
acts on what was due at its own minute, on AWS and in the local stack alike."""
from __future__ import annotations

import logging
from datetime import datetime

from chalicelib import clock
from chalicelib.domain import Job
from chalicelib.domains import DOMAINS

log = logging.getLogger("yutang.scheduler")

JOBS: tuple[Job, ...] = tuple(job for domain in DOMAINS for job in domain.jobs)


def run_tick(now: datetime | str | None = None) -> dict[str, int]:
    """Run every job for ``now`` (a datetime, an EventBridge ``time`` string, or None: the clock)."""
    if isinstance(now, str):
        now = datetime.fromisoformat(now.replace("Z", "+00:00"))
    now = now or clock.now()
    results: dict[str, int] = {}
    errors: list[Exception] = []
    for job in JOBS:
        try:
            results[job.name] = job.run(now)
        except Exception as exc:  # noqa: BLE001 - other jobs still run; re-raised below
            log.exception("tick job %s failed", job.name)
            errors.append(exc)
    if errors:
        raise errors[0]
    return results
