"""A per-endpoint circuit breaker for outbound webhooks: a receiver that keeps failing is left
alone for a while instead of being sent every recipient of every batch.

State per (tenant, endpoint) — one item in the ``campaign_batches`` table, ``pk = <tenant>#breaker``,
``sk = E#<sha256(url)[:24]>``, attributes ``fails`` (consecutive failed sends), ``trips``
(consecutive openings) and ``open_until`` (epoch seconds). Access: one GetItem before a batch is
sent (:func:`open_until`), one UpdateItem after it (:func:`record`).

Rules: a batch with any success closes the breaker (``fails``/``trips`` reset). Otherwise its
failures add to ``fails``; at :data:`THRESHOLD` the breaker opens for ``COOLDOWN × 2^trips``
seconds (at most :data:`MAX_COOLDOWN`). While open, nothing is sent to the endpoint: recipients
wait for their next retry. After the cooldown, the next batch is the probe.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from chalicelib import aws
from chalicelib.campaigns.models import CampaignBatch

THRESHOLD = 10  # consecutive failed sends (timeouts, 5xx, 429, transport errors)
COOLDOWN = 60  # seconds, doubled per consecutive trip
MAX_COOLDOWN = 900


def _key(tenant_id: str, url: str) -> dict:
    return CampaignBatch.breaker_key(tenant_id, hashlib.sha256(url.encode()).hexdigest()[:24])


def _table() -> str:
    return CampaignBatch.table_name()


def open_until(tenant_id: str, url: str, now: datetime) -> int | None:
    """Epoch second until which the endpoint is left alone, or None when it may be called."""
    item = aws.client("dynamodb").get_item(TableName=_table(), Key=_key(tenant_id, url),
                                           ConsistentRead=True).get("Item") or {}
    until = int(item.get("open_until", {}).get("N", "0"))
    return until if until > now.timestamp() else None


def record(tenant_id: str, url: str, successes: int, failures: int, now: datetime) -> int | None:
    """Account one batch's outcomes; returns the new ``open_until`` when this batch tripped it."""
    client = aws.client("dynamodb")
    if successes:
        client.update_item(TableName=_table(), Key=_key(tenant_id, url),
                           UpdateExpression="SET fails = :z, trips = :z REMOVE open_until",
                           ExpressionAttributeValues={":z": {"N": "0"}})
        return None
    if not failures:
        return None
    answer = client.update_item(
        TableName=_table(), Key=_key(tenant_id, url), UpdateExpression="ADD fails :n",
        ExpressionAttributeValues={":n": {"N": str(failures)}}, ReturnValues="ALL_NEW")["Attributes"]
    if int(answer["fails"]["N"]) < THRESHOLD:
        return None
    trips = int(answer.get("trips", {}).get("N", "0"))
    until = int(now.timestamp()) + min(COOLDOWN * 2 ** trips, MAX_COOLDOWN)
    client.update_item(TableName=_table(), Key=_key(tenant_id, url),
                       UpdateExpression="SET open_until = :u, fails = :z ADD trips :one",
                       ExpressionAttributeValues={":u": {"N": str(until)}, ":z": {"N": "0"},
                                                  ":one": {"N": "1"}})
    return until
