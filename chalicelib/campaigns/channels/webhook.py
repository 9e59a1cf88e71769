"""The webhook channel: one signed JSON POST per recipient to the campaign's ``webhook_url`` (or
the tenant's), like operator webhooks (``X-Yutang-Signature: sha256=HMAC(secret, ts.body)``).

``X-Yutang-Delivery: <run>:<user>`` lets a receiver drop a repeat. Transport errors and 5xx/429
answers are retried with exponential backoff (3 attempts); then, or at once for other 4xx answers,
the recipient is recorded as failed with the reason (``http_404``, ``unreachable``...)."""
from __future__ import annotations

import json
import time

from chalicelib import fetch
from chalicelib.campaigns.channels import Delivery, Recipient, Report
from chalicelib.settings import get_settings
from chalicelib.signing import webhook_signature

IDEMPOTENT = False
NEEDS_PROFILE = True
IDENTITY = None
ATTEMPTS = 3


def _target(delivery: Delivery) -> tuple[str | None, str]:
    from chalicelib.auth import service as auth

    tenant = auth.get_tenant(delivery.tenant_id)
    return delivery.snapshot.get("webhook_url") or tenant.webhook_url, auth.webhook_secret(tenant)


def body(delivery: Delivery, r: Recipient) -> bytes:
    event = {"type": "campaign.message", "campaign_id": delivery.campaign_id,
             "campaign_name": delivery.snapshot.get("name"), "run_id": delivery.run_id,
             "delivery_id": f"{delivery.run_id}:{r.user_id}",
             "user": {"id": r.user_id, "identities": r.identities},
             "message": {"text": r.text, "content": r.content}}
    return json.dumps(event, ensure_ascii=False).encode()


def _post_once(url: str, secret: str, data: bytes, delivery_id: str,
               event: str = "campaign.message") -> int | None:
    ts = str(int(time.time()))
    headers = {"X-Yutang-Timestamp": ts, "X-Yutang-Signature": webhook_signature(secret, ts, data),
               "X-Yutang-Event": event, "X-Yutang-Delivery": delivery_id}
    try:
        return fetch.post_json(url, data, headers, get_settings().webhook_timeout_seconds)
    except fetch.FetchRefused:
        return None


def post(url: str, secret: str, data: bytes, delivery_id: str,
         event: str = "campaign.message") -> tuple[bool, str | None]:
    base = get_settings().webhook_retry_base_seconds
    reason = None
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(base * 2 ** (attempt - 1))
        status = _post_once(url, secret, data, delivery_id, event)
        if status is not None and 200 <= status < 300:
            return True, None
        reason = "unreachable" if status is None else f"http_{status}"
        if status is not None and 400 <= status < 500 and status not in (408, 429):
            break
    return False, reason


def send_event(tenant_id: str, event_type: str, event: dict,
               delivery_id: str) -> tuple[bool, str | None]:
    """One signed event to the tenant's webhook, outside a campaign run (e.g. a fission reward
    notice), with the same retries; (ok, reason) as :func:`post`."""
    from chalicelib.auth import service as auth

    tenant = auth.get_tenant(tenant_id)
    if not tenant.webhook_url:
        return False, "no_webhook_url"
    data = json.dumps({"type": event_type, **event}, ensure_ascii=False).encode()
    return post(tenant.webhook_url, auth.webhook_secret(tenant), data, delivery_id, event_type)


def send(delivery: Delivery, recipients: list[Recipient], report: Report) -> None:
    url, secret = _target(delivery)
    for r in recipients:
        if not url:
            report(r.user_id, False, "no_webhook_url", None)
            continue
        ok, reason = post(url, secret, body(delivery, r), f"{delivery.run_id}:{r.user_id}")
        report(r.user_id, ok, reason, None)
