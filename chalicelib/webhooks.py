"""Operator webhooks: JSON POSTs signed with the tenant's secret (HMAC-SHA256 over
``<timestamp>.<body>``, headers ``X-Yutang-Timestamp`` and ``X-Yutang-Signature: sha256=<hex>``)."""
from __future__ import annotations

import json
import time

from chalicelib import fetch
from chalicelib.settings import get_settings
from chalicelib.signing import webhook_signature


class WebhookFailed(Exception):
    pass


def deliver(url: str, secret: str, event: dict) -> None:
    body = json.dumps(event, ensure_ascii=False, default=str).encode()
    status = post_signed(url, secret, body, str(event.get("type", "")))
    if not 200 <= status < 300:
        raise WebhookFailed(f"webhook answered HTTP {status}")


def post_signed(url: str, secret: str, body: bytes, event_type: str,
                extra_headers: dict | None = None) -> int:
    """POST a signed body; answers the HTTP status (FetchRefused when it cannot be reached)."""
    ts = str(int(time.time()))
    headers = {"X-Yutang-Timestamp": ts, "X-Yutang-Signature": webhook_signature(secret, ts, body),
               "X-Yutang-Event": event_type, **(extra_headers or {})}
    return fetch.post_json(url, body, headers, get_settings().webhook_timeout_seconds)
