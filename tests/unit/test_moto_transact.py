"""The local stack's TransactWriteItems: same outcome as moto's, rollback of only the touched items,
memory independent of the table's size (devstack/moto_transact.py)."""
from __future__ import annotations

import tracemalloc

import pytest

from devstack import moto_transact


def _table(be, name: str, count: int) -> None:
    be.create_table(name, schema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                  {"AttributeName": "sk", "KeyType": "RANGE"}],
                    throughput=None,
                    attr=[{"AttributeName": "pk", "AttributeType": "S"},
                          {"AttributeName": "sk", "AttributeType": "S"}],
                    global_indexes=None, indexes=None, streams=None, billing_mode="PAY_PER_REQUEST",
                    sse_specification=None, tags=[], deletion_protection_enabled=False,
                    warm_throughput=None)
    for i in range(count):
        be.put_item(name, {"pk": {"S": f"u{i}"}, "sk": {"S": "A"}, "bio": {"S": "x" * 200},
                           "n": {"N": str(i)}})


@pytest.fixture
def be():
    """A DynamoDB backend of its own (no mock, no server: nothing shared with other tests)."""
    from moto.dynamodb.models import DynamoDBBackend

    return DynamoDBBackend("us-east-1", "123456789012")


def _user_post(table: str, i: int, *, fail: bool = False) -> list[dict]:
    """Like a user POST: a new item, a counter update, and a uniqueness condition elsewhere."""
    return [
        {"Put": {"TableName": table, "Item": {"pk": {"S": f"new{i}"}, "sk": {"S": "A"}},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": table, "Key": {"pk": {"S": "u1"}, "sk": {"S": "A"}},
                    "UpdateExpression": "SET n = n + :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Delete": {"TableName": table, "Key": {"pk": {"S": "u2"}, "sk": {"S": "A"}}}},
        {"Put": {"TableName": table, "Item": {"pk": {"S": "u3"}, "sk": {"S": "A"}},
                 "ConditionExpression": "attribute_not_exists(pk)" if fail else
                 "attribute_exists(pk)"}},
    ]


def _dump(backend, table: str) -> dict:
    return {(i.hash_key.value, i.range_key.value): i.to_json()["Attributes"]
            for i in backend.get_table(table).all_items()}


def test_a_failed_condition_rolls_back_every_touched_item(be):
    _table(be, "t", 10)
    before = _dump(be, "t")
    from moto.dynamodb.exceptions import TransactionCanceledException

    with pytest.raises(TransactionCanceledException) as err:
        moto_transact.transact_write_items(be, _user_post("t", 1, fail=True))
    assert "ConditionalCheckFailed" in str(err.value.message)
    assert _dump(be, "t") == before  # the put, the update and the delete before it are undone
    moto_transact.transact_write_items(be, _user_post("t", 2))
    after = _dump(be, "t")
    assert ("new2", "A") in after and ("u2", "A") not in after
    assert after[("u1", "A")]["n"] == {"N": "2"} and after[("u3", "A")] == {
        "pk": {"S": "u3"}, "sk": {"S": "A"}}


def test_a_duplicate_item_rolls_back_and_raises_as_moto_does(be):
    _table(be, "t", 5)
    before = _dump(be, "t")
    from moto.dynamodb.exceptions import MultipleTransactionsException

    items = [{"Put": {"TableName": "t", "Item": {"pk": {"S": "z"}, "sk": {"S": "A"}}}},
             {"Update": {"TableName": "t", "Key": {"pk": {"S": "u0"}, "sk": {"S": "A"}},
                         "UpdateExpression": "SET n = :v",
                         "ExpressionAttributeValues": {":v": {"N": "9"}}}},
             {"Delete": {"TableName": "t", "Key": {"pk": {"S": "z"}, "sk": {"S": "A"}}}}]
    with pytest.raises(MultipleTransactionsException):
        moto_transact.transact_write_items(be, items)
    assert _dump(be, "t") == before


def test_cancellation_reasons_are_moto_s(be):
    _table(be, "t", 5)
    from moto.dynamodb.exceptions import TransactionCanceledException
    from moto.dynamodb.models import DynamoDBBackend

    moto_own = moto_transact._ORIGINAL or DynamoDBBackend.transact_write_items
    reasons = []
    for fn in (moto_transact.transact_write_items, moto_own):
        with pytest.raises(TransactionCanceledException) as err:
            fn(be, _user_post("t", 7, fail=True))
        reasons.append(err.value.message)
    assert reasons[0] == reasons[1] and "ConditionalCheckFailed" in reasons[0]


def _peak(fn, be, table: str, i: int) -> int:
    tracemalloc.start()
    try:
        fn(be, _user_post(table, i, fail=True))
    except Exception:  # noqa: BLE001 - the cancelled transaction is the point
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def test_memory_does_not_grow_with_the_table(be):
    _table(be, "small", 100)
    _table(be, "large", 2000)
    from moto.dynamodb.models import DynamoDBBackend

    ours = moto_transact.transact_write_items
    moto_own = moto_transact._ORIGINAL or DynamoDBBackend.transact_write_items
    assert moto_own is not ours
    small, large = _peak(ours, be, "small", 1), _peak(ours, be, "large", 1)
    assert large < 1.5 * small + 50_000, (small, large)
    # moto's own copies whole tables: the same measure grows with the table (so this test can fail)
    small_m, large_m = _peak(moto_own, be, "small", 2), _peak(moto_own, be, "large", 2)
    assert large_m > 5 * small_m, (small_m, large_m)
    assert large_m > 10 * large
