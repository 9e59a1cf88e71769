"""Bulk DynamoDB I/O for senders: BatchGetItem and BatchWriteItem in their size limits, retrying
what DynamoDB leaves unprocessed (with backoff), and small raw transactions."""
from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import aws


class Busy(Exception):
    """Transaction conflicts persisted (another writer keeps the items); retry the work later."""


def batch_get(table: str, keys: list[dict], attributes: list[str] | None = None) -> list[dict]:
    client = aws.client("dynamodb")
    out: list[dict] = []
    for i in range(0, len(keys), 100):
        request: dict[str, Any] = {"Keys": keys[i:i + 100], "ConsistentRead": True}
        if attributes:
            request["ProjectionExpression"] = ", ".join(f"#a{n}" for n in range(len(attributes)))
            request["ExpressionAttributeNames"] = {f"#a{n}": a for n, a in enumerate(attributes)}
        pending = {table: request}
        for attempt in range(8):
            answer = client.batch_get_item(RequestItems=pending)
            out.extend(answer.get("Responses", {}).get(table, []))
            pending = answer.get("UnprocessedKeys") or {}
            if not pending:
                break
            time.sleep(min(0.05 * 2 ** attempt, 1.0))
        else:
            raise RuntimeError("DynamoDB left keys unprocessed; retrying the batch later")
    return out


def batch_write(requests: list[tuple[str, dict]]) -> None:
    """BatchWriteItem in groups of 25 (any tables), retrying unprocessed items with backoff."""
    client = aws.client("dynamodb")
    for i in range(0, len(requests), 25):
        pending: dict[str, list] = {}
        for table, req in requests[i:i + 25]:
            pending.setdefault(table, []).append(req)
        for attempt in range(8):
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
            time.sleep(min(0.05 * 2 ** attempt, 1.0))
        else:
            raise RuntimeError("DynamoDB left writes unprocessed; retrying the batch later")


def transact(items: list[dict]) -> bool:
    """Run a small transaction; False when a condition failed (conflicts are retried)."""
    client = aws.client("dynamodb")
    for attempt in range(8):
        try:
            client.transact_write_items(TransactItems=items)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or []
            if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                return False
            time.sleep(min(0.05 * 2 ** attempt, 1.0))  # TransactionConflict: another writer
    raise Busy("transaction conflicts persisted")
