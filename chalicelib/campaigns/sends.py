"""The ``yutang-sends`` queue: campaign messages (:mod:`chalicelib.campaigns.wire`) in
SendMessageBatch calls, and the deletion of handled ones after a partial failure."""
from __future__ import annotations

import json
from typing import Any

from chalicelib import aws
from chalicelib.campaigns.wire import Message
from chalicelib.settings import get_settings

MAX_SQS_BATCH_BYTES = 200_000


def send_messages(messages: list[Message], delays: list[int] | None = None) -> None:
    """SendMessageBatch in groups of ≤ 10 entries and ≤ ~200 KB."""
    sqs = aws.client("sqs")
    url = aws.queue_url(get_settings().sends_queue)
    group: list[dict] = []
    size = 0
    for i, msg in enumerate(messages):
        body = json.dumps(msg.to_record(), ensure_ascii=False, separators=(",", ":"))
        entry: dict[str, Any] = {"Id": str(len(group)), "MessageBody": body}
        if delays and delays[i]:
            entry["DelaySeconds"] = delays[i]
        if group and (len(group) == 10 or size + len(body.encode()) > MAX_SQS_BATCH_BYTES):
            _send_batch(sqs, url, group)
            group, size = [], 0
            entry["Id"] = "0"
        group.append(entry)
        size += len(body.encode())
    if group:
        _send_batch(sqs, url, group)


def _send_batch(sqs: Any, url: str, entries: list[dict]) -> None:
    answer = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    if answer.get("Failed"):
        failed = {f["Id"] for f in answer["Failed"]}
        retry = [e for e in entries if e["Id"] in failed]
        answer = sqs.send_message_batch(QueueUrl=url, Entries=retry)
        if answer.get("Failed"):
            raise RuntimeError(f"SQS refused {len(answer['Failed'])} campaign messages")


def delete(records: list[Any]) -> None:
    """Delete handled SQS records (so a whole-batch retry re-delivers only the failures)."""
    if not records:
        return
    sqs = aws.client("sqs")
    url = aws.queue_url(get_settings().sends_queue)
    for i in range(0, len(records), 10):
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "ReceiptHandle": r.receipt_handle}
            for n, r in enumerate(records[i:i + 10])])
