"""The scan log: one item per scan, written off the request path, for the ``scans`` export.

A batch consumer of ``scan`` events (chalicelib/portability/domain.py): the scans of one SQS batch
are written with one BatchWriteItem (≤ 10 items, one call). An item's key derives from the event
(its time and a digest of its content), so a repeated event message rewrites the same item.
Items expire after 400 days (the audience's retention).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from chalicelib import clock
from chalicelib.ids import ALPHABET
from chalicelib.portability.models import ScanRecord

RETENTION = timedelta(days=400)
FIELDS = ("code_id", "channel", "target_id", "reason", "assigned", "visitor_id", "new_visitor",
          "wechat", "ref", "user_id", "bot", "bot_name")


def _at(event: dict) -> datetime:
    try:
        at = datetime.fromisoformat(str(event.get("at")).replace("Z", "+00:00"))
        return at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    except ValueError:
        return clock.now()


def _digest(event: dict) -> str:
    raw = json.dumps(event, sort_keys=True, ensure_ascii=False, default=str).encode()
    return "".join(ALPHABET[b % 32] for b in hashlib.sha256(raw).digest()[:8])


def record(event: dict) -> ScanRecord:
    at = _at(event).astimezone(timezone.utc)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    suffix = _digest(event)
    return ScanRecord(tenant_id=event["tenant_id"], sk=ScanRecord.time_key(stamp, suffix),
                      code_key=ScanRecord.code_key_of(event["code_id"], stamp, suffix), at=at,
                      data={k: event.get(k) for k in FIELDS}, expires=at + RETENTION)


def record_scans(events: Iterable[dict]) -> None:
    with ScanRecord.batch_write() as batch:
        for event in events:
            if event.get("tenant_id") and event.get("code_id"):
                batch.save(record(event))
