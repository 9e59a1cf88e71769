"""TransactWriteItems that costs what it touches: moto's rollback, narrowed to the touched items.

Why: moto 5.2's ``DynamoDBBackend.transact_write_items`` takes its rollback copy by
``copy.deepcopy`` of every table a transaction names, before it applies anything. A user POST (a
transaction over the users and identity tables) on a 10,000-user table therefore copies 10,000
items, allocates hundreds of MB and takes ~0.5 s, and CPython hands little of that memory back: the
issue measured 381 MB -> 9.7 GB of RSS after a few hundred transactional writes on ~7k items. On AWS
a transaction costs the items it names, and so must the local stack, or a demo with a realistic
audience is unusable.

What: :func:`install` replaces that method (process-wide, idempotent) with the same algorithm —
same validation, same order of checks, same errors and cancellation reasons — except for the
backup: before each action it deep-copies only the item that action reads and may write (or notes
that there was none), and a rollback puts those items back (or removes the items the transaction
created), in reverse order. A transaction names each item at most once (moto checks it, as DynamoDB
does), so one saved copy per action restores exactly the state before the transaction. The rest
of a table is never copied. Only the embedded local stack (``devstack.moto_server``) installs it;
production code never imports ``devstack``.

Tests: ``tests/unit/test_moto_transact.py`` (rollback on a failed condition, on a duplicate item,
created items removed; peak memory of one transaction independent of table size, while moto's own
method grows with it). ``bench`` (section ``devstack``) prints RSS per 1,000 transactional writes.
"""
from __future__ import annotations

import copy
from typing import Any

_ORIGINAL: Any = None


def _key_of(table: Any, key: dict[str, Any]) -> tuple[Any, Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    return hash_value, range_value


def _restore(table: Any, key: dict[str, Any], original: Any, bucket_existed: bool) -> None:
    hash_value, range_value = _key_of(table, key)
    if range_value is not None:
        if original is None:
            bucket = table.items.get(hash_value)
            if bucket is not None:
                bucket.pop(range_value, None)
                if not bucket and not bucket_existed:
                    del table.items[hash_value]
        else:
            table.items[hash_value][range_value] = original
    elif original is None:
        table.items.pop(hash_value, None)
    else:
        table.items[hash_value] = original


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto 5.2.5's ``transact_write_items`` with an item-level rollback (see the module doc)."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    # (table, key, deep copy of the item before this action or None, hash bucket existed)
    backups: list[tuple[Any, dict[str, Any], Any, bool]] = []

    def rollback() -> None:
        for table, key, original, bucket_existed in reversed(backups):
            _restore(table, key, original, bucket_existed)

    target_items: set[tuple[str, str]] = set()

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise MultipleTransactionsException()
        target_items.add(item)

    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException

        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")

            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            expression_attribute_names = op.get("ExpressionAttributeNames")
            expression_attribute_values = op.get("ExpressionAttributeValues")
            return_values_on_condition_check_failure = op.get(
                "ReturnValuesOnConditionCheckFailure")

            if op_type == "Put":
                attrs = op["Item"]
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]

            check_unicity(table_name, key)

            current = self.get_item(table_name, key)
            if op_type != "ConditionCheck":
                table = self.get_table(table_name)
                hash_value, _ = _key_of(table, key)
                backups.append((table, key, copy.deepcopy(current), hash_value in table.items))
            if condition_expression is not None:
                condition_op = get_filter_expression(
                    condition_expression, expression_attribute_names,
                    expression_attribute_values)
                if not condition_op.expr(current):
                    if return_values_on_condition_check_failure == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)

            if op_type == "Put":
                self.put_item(table_name, op["Item"], condition_expression=condition_expression,
                              expression_attribute_names=expression_attribute_names,
                              expression_attribute_values=expression_attribute_values)
            elif op_type == "Delete":
                self.delete_item(table_name, key, condition_expression=condition_expression,
                                 expression_attribute_names=expression_attribute_names,
                                 expression_attribute_values=expression_attribute_values)
            elif op_type == "Update":
                self.update_item(table_name, key, update_expression=op["UpdateExpression"],
                                 condition_expression=condition_expression,
                                 expression_attribute_names=expression_attribute_names,
                                 expression_attribute_values=expression_attribute_values)
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            rollback()
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
        except Exception as e:  # noqa: BLE001 - as moto: any other failure cancels the transaction
            errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]

    if any(code is not None for code, _, _ in errors):
        rollback()
        raise TransactionCanceledException(errors)


def install() -> None:
    """Replace moto's method (once per process)."""
    global _ORIGINAL
    from moto.dynamodb.models import DynamoDBBackend

    if _ORIGINAL is None:
        _ORIGINAL = DynamoDBBackend.transact_write_items
        DynamoDBBackend.transact_write_items = transact_write_items


def uninstall() -> None:
    """Put moto's own method back (for the before/after measurement in ``bench``)."""
    global _ORIGINAL
    from moto.dynamodb.models import DynamoDBBackend

    if _ORIGINAL is not None:
        DynamoDBBackend.transact_write_items = _ORIGINAL
        _ORIGINAL = None
