"""The webhook channel: one signed JSON POST per recipient to the campaign's ``webhook_url`` (or
the tenant's), like operator webhooks (``X-Yutang-Signature: sha256=HMAC(secret, ts.body)``).

Semantics (docs/security.md): **at least once**, with a stable ``X-Yutang-Delivery: <run>:<user>``
on every attempt — receivers dedupe on it. A batch is sent with bounded concurrency
(:data:`CONCURRENCY` requests in flight), one attempt per recipient per pass:

- 2xx: sent.
- a refused address (not public, see :mod:`chalicelib.fetch`): failed at once, ``refused_address``.
- 4xx other than 408/429: failed at once, ``http_<status>`` (the receiver will not change its mind).
- a timeout: ``outcome_unknown`` (the receiver may have it) and retried like the next kind.
- 5xx, 408, 429, transport errors: retried later, by the sender re-queueing the batch with a real
  delay (campaigns: :func:`chalicelib.campaigns.sender.retry_delay`, up to ``ATTEMPTS`` attempts).

A per-endpoint circuit breaker (``delivery.breaker``; campaigns pass
:mod:`chalicelib.campaigns.breaker`) stops sending to a receiver that keeps failing: within a batch
after ``THRESHOLD`` failures in a row, and across batches while it is open; the recipients not sent
wait for their retry (``circuit_open``).
"""
from __future__ import annotations

import json
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import NamedTuple

from chalicelib import clock, fetch
from chalicelib.channels import Delivery, Recipient, Report
from chalicelib.settings import get_settings
from chalicelib.signing import webhook_signature

IDEMPOTENT = False
NEEDS_PROFILE = True
IDENTITY = None
CONCURRENCY = 32  # requests in flight per sender: 160/s against a 200 ms receiver, before storage


class NoBreaker:
    """No circuit breaker: every batch is sent in full."""
    THRESHOLD = float("inf")

    @staticmethod
    def open_until(tenant_id: str, url: str, now: object) -> None:
        return None

    @staticmethod
    def record(tenant_id: str, url: str, successes: int, failures: int, now: object) -> None:
        return None


class WebhookRetry(Exception):
    """A retryable failure outside a campaign batch (the caller's queue retries later)."""


class Outcome(NamedTuple):
    ok: bool
    reason: str | None = None
    retry: bool = False


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


def post(url: str, secret: str, data: bytes, delivery_id: str,
         event: str = "campaign.message") -> Outcome:
    """One signed attempt, classified (never raises for the receiver's behaviour)."""
    ts = str(int(time.time()))
    headers = {"X-Yutang-Timestamp": ts, "X-Yutang-Signature": webhook_signature(secret, ts, data),
               "X-Yutang-Event": event, "X-Yutang-Delivery": delivery_id}
    try:
        status = fetch.post_json(url, data, headers, get_settings().webhook_timeout_seconds)
    except fetch.FetchTimeout:
        return Outcome(False, "outcome_unknown", retry=True)
    except fetch.FetchFailed:
        return Outcome(False, "unreachable", retry=True)
    except fetch.FetchRefused:
        return Outcome(False, "refused_address")
    if 200 <= status < 300:
        return Outcome(True)
    return Outcome(False, f"http_{status}", retry=status >= 500 or status in (408, 429))


def send_event(tenant_id: str, event_type: str, event: dict,
               delivery_id: str) -> tuple[bool, str | None]:
    """One signed event to the tenant's webhook outside a campaign run (a fission reward notice):
    (ok, reason) when final; raises :class:`WebhookRetry` when it should be tried again later."""
    from chalicelib.auth import service as auth

    tenant = auth.get_tenant(tenant_id)
    if not tenant.webhook_url:
        return False, "no_webhook_url"
    data = json.dumps({"type": event_type, **event}, ensure_ascii=False).encode()
    outcome = post(tenant.webhook_url, auth.webhook_secret(tenant), data, delivery_id, event_type)
    if outcome.retry:
        raise WebhookRetry(f"webhook {outcome.reason}; retry later")
    return outcome.ok, outcome.reason


def send(delivery: Delivery, recipients: list[Recipient], report: Report) -> None:
    url, secret = _target(delivery)
    if not url:
        for r in recipients:
            report(r.user_id, False, "no_webhook_url", None)
        return
    now = clock.now()
    breaker = delivery.breaker or NoBreaker
    if breaker.open_until(delivery.tenant_id, url, now) is not None:
        for r in recipients:
            report(r.user_id, False, "circuit_open", None, retry=True)
        return
    successes, failures, streak = 0, 0, 0
    error: BaseException | None = None
    queue = list(recipients)
    with ThreadPoolExecutor(max_workers=min(CONCURRENCY, len(recipients)) or 1) as pool:
        pending: dict[Future, Recipient] = {}
        while queue or pending:
            while queue and len(pending) < CONCURRENCY and streak < breaker.THRESHOLD and not error:
                r = queue.pop(0)
                pending[pool.submit(post, url, secret, body(delivery, r),
                                    f"{delivery.run_id}:{r.user_id}")] = r
            if not pending:
                break  # tripped (or crashed): the rest wait for their retry
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                r = pending.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # noqa: BLE001 - a crash: finish what is in flight, re-raise
                    error = error or exc
                    continue
                report(r.user_id, outcome.ok, outcome.reason, None, retry=outcome.retry)
                if outcome.ok:
                    successes, streak = successes + 1, 0
                elif outcome.retry:
                    failures, streak = failures + 1, streak + 1
    breaker.record(delivery.tenant_id, url, successes, failures, now)
    if error is not None:
        raise error  # unreported recipients are retried by the sender (their rows say "retrying")
    for r in queue:
        report(r.user_id, False, "circuit_open", None, retry=True)
