"""企业微信 integration problems, kept for the console's alerts (``GET /v1/alerts``).

One item per (tenant, kind) in the stats table, ``WP#<kind>``: how many times, when last, and the
last message. Written only on failure paths (one UpdateItem each), read with one Query (prefix
``WP#``) by the alerts. Recording never raises: a problem report must not hide the real error.

Kinds: ``token`` (gettoken refused: wrong corp id / secret, or the app disabled), ``api`` (an API
call refused for another reason), ``callback`` (a callback that failed its signature or decryption,
or whose handling failed).
"""
from __future__ import annotations

import logging
from datetime import datetime

from chalicelib import clock

log = logging.getLogger("yutang.analytics")

KINDS = ("token", "api", "callback")


def problem_key(kind: str) -> str:
    return f"WP#{kind}"


def record(tenant_id: str, kind: str, message: str, now: datetime | None = None) -> None:
    try:
        from pynamodb.expressions.operand import Path

        from chalicelib.analytics.models import DailyStats

        at = (now or clock.now()).isoformat()
        DailyStats.table().update_item(tenant_id, problem_key(kind), actions=[
            Path(["count"]).add({"N": "1"}), Path(["last_at"]).set({"S": at}),
            Path(["message"]).set({"S": str(message)[:300] or kind})])
    except Exception:  # noqa: BLE001 - never mask the failure being reported
        log.exception("recording a 企业微信 problem failed for tenant %s", tenant_id)
