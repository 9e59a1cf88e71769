"""Reading a campaign batch's users by id range (store.range_load): GIVEN ids that are a slice of
the tenant's users in id order, THEN one Query reads them (not a BatchGet per 100); GIVEN a sparse
slice, THEN the Query stops early and BatchGet reads the rest, and every asked user is found."""
from __future__ import annotations

from chalicelib import aws
from chalicelib.audience import store
from chalicelib.audience.models import AudienceItem as Item
from chalicelib.ids import new_id


def seed(tenant_id, n):
    ids = sorted(new_id(12) for _ in range(n))
    with Item.batch_write() as batch:
        for uid in ids:
            batch.save(Item(tenant_id=tenant_id, sk=Item.user_key(uid), user_id=uid,
                            interests={"护眼": 2}))
    return ids


def counted(fn):
    names = []

    def hook(request, **kwargs):
        target = request.headers.get("X-Amz-Target", b"")
        names.append((target.decode() if isinstance(target, bytes) else target).rsplit(".")[-1])

    aws.register_hook("before-send", hook)
    try:
        return fn(), names
    finally:
        aws.unregister_hook("before-send", hook)


def test_a_dense_slice_is_one_query(tenant):
    ids = seed(tenant["tenant_id"], 300)
    found, calls = counted(lambda: store.range_load(tenant["tenant_id"], ids[50:250],
                                                    [Item.user_id, Item.interests]))
    assert sorted(found) == ids[50:250]
    assert found[ids[60]].interests.as_dict() == {"护眼": 2}
    assert calls == ["Query"]


def test_a_sparse_slice_stops_the_query_and_batch_gets_the_rest(tenant):
    ids = seed(tenant["tenant_id"], 700)
    wanted = ids[::5]  # 140 of 700: the range holds five times as many users
    found, calls = counted(lambda: store.range_load(tenant["tenant_id"], wanted, [Item.user_id]))
    assert sorted(found) == wanted
    assert "BatchGetItem" in calls and calls.count("Query") <= 2


def test_a_small_slice_is_a_plain_batch_get(tenant):
    ids = seed(tenant["tenant_id"], 20)
    found, calls = counted(lambda: store.range_load(tenant["tenant_id"], ids, [Item.user_id]))
    assert sorted(found) == ids and calls == ["BatchGetItem"]
