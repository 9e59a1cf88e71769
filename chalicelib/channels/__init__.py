"""Message channels (shared by campaigns and fission reward notices): how a batch of recipients
is delivered.

An *idempotent* channel (outbox) delivers by writing keyed DynamoDB items alongside the recipients'
counters, so redoing it after a crash changes nothing. The others (webhook, wecom) are called after
the claim and ``report`` each recipient's outcome as it is known; if they raise, recipients not
reported are retried later (their caps already counted) and never sent twice.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, NamedTuple

ADAPTERS = {"outbox": "chalicelib.channels.outbox",
            "webhook": "chalicelib.channels.webhook",
            "wecom": "chalicelib.channels.wecom"}


class Recipient(NamedTuple):
    user_id: str
    identities: dict
    text: str | None
    content: dict | None


class Delivery(NamedTuple):
    """What a channel is asked to deliver (one batch of one run)."""
    tenant_id: str
    campaign_id: str
    run_id: str
    batch: str
    snapshot: dict
    breaker: Any = None  # the caller's per-endpoint circuit breaker (webhook), None for none


Report = Callable[..., None]  # (user, ok, reason, detail, retry=False): retry asks for a later attempt


def get(name: str) -> Any:
    """The adapter module: ``IDEMPOTENT``, ``NEEDS_PROFILE``, ``IDENTITY`` and ``requests(...)``
    (idempotent: BatchWriteItem requests) or ``send(delivery, recipients, report)``."""
    return importlib.import_module(ADAPTERS[name])
