"""Storage helpers that need more than one model: a task and one participant in one round trip,
and the failure codes of a cancelled transaction (``FissionTask.transaction()`` opens one on the
models' own connection, so it shares their client and hooks)."""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib import aws
from chalicelib.fission.models import FissionTask, Participant, task_pk


def cancel_codes(exc: TransactWriteError) -> list[str | None]:
    """Per item of a cancelled transaction: its failure code ("ConditionalCheckFailed",
    "TransactionConflict", ...) or None. Empty when the transaction was not cancelled."""
    if getattr(exc, "cause_response_code", None) != "TransactionCanceledException":
        return []
    reasons = getattr(exc, "cancellation_reasons", None) or []
    return [None if r is None or r.code in (None, "None") else r.code for r in reasons]


def task_and_participant(tenant_id: str, task_id: str,
                         participant_id: str) -> tuple[FissionTask | None, Participant | None]:
    """Both items with one consistent BatchGetItem."""
    task_table, part_table = FissionTask.table_name(), Participant.table_name()
    request: dict[str, Any] = {
        task_table: {"Keys": [FissionTask.raw_key(tenant_id, task_id)], "ConsistentRead": True},
        part_table: {"Keys": [Participant.raw_key(task_pk(tenant_id, task_id), participant_id)],
                     "ConsistentRead": True},
    }
    found: dict[str, list[dict]] = {task_table: [], part_table: []}
    client = aws.client("dynamodb")
    for _ in range(8):
        answer = client.batch_get_item(RequestItems=request)
        for table, items in answer.get("Responses", {}).items():
            found[table].extend(items)
        request = answer.get("UnprocessedKeys") or {}
        if not request:
            break
    else:
        raise RuntimeError("BatchGetItem kept returning unprocessed keys")
    task = FissionTask.from_raw_data(found[task_table][0]) if found[task_table] else None
    part = Participant.from_raw_data(found[part_table][0]) if found[part_table] else None
    return task, part
