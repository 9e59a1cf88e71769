"""Content library against moto: CRUD, posting lists, queries (with a property test), counters."""
import base64
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.content import service as content
from chalicelib.content.query import Query
from chalicelib.errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed
from chalicelib.ids import new_id
from tests.support.images import png_b64


@pytest.fixture
def tid(aws_stack):
    return new_id(8)


def text_item(tags, title="t"):
    return {"type": "text", "title": title, "body": "hello", "tags": tags}


def _all(tid, q, limit=3):
    """Every page of a query, following cursors."""
    ids, cursor = [], None
    while True:
        page = content.query(tid, q, limit, cursor)
        ids += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


def test_create_get_update_delete(tid):
    item = content.create(tid, text_item([" Skin Care ", "新品", "NEW"]))
    assert item["tags"] == ["skin care", "新品", "new"]
    assert content.get_item(tid, item["id"])["title"] == "t"
    changed = content.update(tid, item["id"], {"title": "t2", "tags": ["new", "sale"]})
    assert changed["title"] == "t2" and changed["tags"] == ["new", "sale"]
    assert _all(tid, Query(tags=("skin care",))) == []
    assert _all(tid, Query(tags=("sale",))) == [item["id"]]
    content.delete(tid, item["id"])
    with pytest.raises(NotFound):
        content.get_item(tid, item["id"])
    assert _all(tid, Query()) == [] and _all(tid, Query(tags=("new",))) == []


def test_ids_sort_newest_first():
    now = datetime.now(timezone.utc)
    older, newer = content.new_content_id(now), content.new_content_id(now + timedelta(milliseconds=1))
    assert len(older) == 14 and newer > older


def test_types_need_their_fields(tid):
    for body in ({"type": "text", "title": "x"}, {"type": "link", "title": "x"},
                 {"type": "image", "title": "x"}, {"type": "miniprogram", "title": "x"},
                 {"type": "poster", "title": "x"}, {"type": "text", "body": "b"},
                 {"type": "text", "title": "x", "body": "b", "extra": 1},
                 {"type": "miniprogram", "title": "x", "card": {"appid": "nope", "path": "p"}},
                 {"type": "image", "title": "x", "media": {"data": base64.b64encode(b"GIF89a").decode()}},
                 {"type": "text", "title": "x", "body": "b", "tags": ["a#b"]},
                 {"type": "text", "title": "x", "body": "b", "tags": [f"t{i}" for i in range(51)]}):
        with pytest.raises(ValidationFailed):
            content.create(tid, body)
    assert _all(tid, Query()) == []


def test_media_is_stored_and_presigned(tid):
    from chalicelib import aws
    from chalicelib.settings import get_settings

    item = content.create(tid, {"type": "image", "title": "pic", "media": {"data": png_b64(),
                                                                           "filename": "a.png"}})
    assert item["media"]["content_type"] == "image/png" and "X-Amz-Signature" in item["media"]["url"]
    key = content.load(tid, item["id"]).media["key"]
    assert key.startswith(f"t/{tid}/media/")
    aws.client("s3").head_object(Bucket=get_settings().bucket, Key=key)
    card = content.create(tid, {"type": "miniprogram", "title": "Shop", "card": {
        "appid": "wx0123456789abcdef", "path": "pages/item?id=1", "thumbnail": png_b64()}})
    assert card["card"]["title"] == "Shop" and card["card"]["thumbnail_url"]


def test_media_size_limit(tid):
    big = base64.b64encode(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * (6 * 1024 * 1024)).decode()
    with pytest.raises(PayloadTooLarge):
        content.create(tid, {"type": "video", "title": "v", "media": {"data": big}})
    small = base64.b64encode(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100).decode()
    assert content.create(tid, {"type": "video", "title": "v", "media": {"data": small}})["media"]


def test_type_cannot_change_and_concurrent_update_conflicts(tid, monkeypatch):
    item = content.create(tid, text_item(["a"]))
    with pytest.raises(ValidationFailed):
        content.update(tid, item["id"], {"type": "link"})
    stale = content.load(tid, item["id"])
    content.update(tid, item["id"], {"title": "newer"})
    monkeypatch.setattr(content, "load", lambda *_: stale)  # read before the other writer
    with pytest.raises(Conflict):
        content.update(tid, item["id"], {"title": "lost", "tags": ["b"]})
    monkeypatch.undo()
    assert content.get_item(tid, item["id"])["title"] == "newer"
    assert _all(tid, Query(tags=("b",))) == []


def test_counters_are_atomic_and_return_tags(tid):
    item = content.create(tid, text_item(["a", "b"]))
    for kind in ("view", "view", "click", "favorite", "share"):
        updated = content.record_interaction(tid, item["id"], kind)
    assert updated.tags == ["a", "b"]
    assert content.get_item(tid, item["id"])["counters"] == {"views": 2, "clicks": 1,
                                                             "favorites": 1, "shares": 1}
    with pytest.raises(NotFound):
        content.record_interaction(tid, "2" * 14, "view")
    with pytest.raises(ValidationFailed):
        content.record_interaction(tid, item["id"], "like")


def test_query_reads_the_smallest_list_and_pages_with_cursors(tid):
    from bench.common import counting

    ids = [content.create(tid, text_item(["big"] + (["small"] if i % 5 == 0 else [])))["id"]
           for i in range(30)]
    expected = [i for n, i in reversed(list(enumerate(ids))) if n % 5 == 0]
    with counting() as calls:
        page = content.query(tid, Query(tags=("big", "small")), 4, None)
    assert [i["id"] for i in page["items"]] == expected[:4]
    assert calls.total == 3 and calls.calls["Query"] == 1
    assert _all(tid, Query(tags=("small", "big")), 4) == expected


def test_cursor_is_bound_to_tenant_and_query(tid):
    for _ in range(3):
        content.create(tid, text_item(["a"]))
    cursor = content.query(tid, Query(tags=("a",)), 1, None)["next_cursor"]
    for bad in (cursor[:-2] + "xx", "garbage", cursor.replace(".", "x")):
        with pytest.raises(ValidationFailed):
            content.query(tid, Query(tags=("a",)), 1, bad)
    with pytest.raises(ValidationFailed):
        content.query(tid, Query(tags=("b",)), 1, cursor)
    with pytest.raises(ValidationFailed):
        content.query(new_id(8), Query(tags=("a",)), 1, cursor)


def test_tenants_see_only_their_items(tid):
    other = new_id(8)
    mine = content.create(tid, text_item(["a"]))["id"]
    content.create(other, text_item(["a"]))
    assert _all(tid, Query(tags=("a",))) == [mine]
    with pytest.raises(NotFound):
        content.get_item(other, mine)


TAGS = ["a", "b", "c", "d"]
TYPES = ["text", "link"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(library=st.lists(st.tuples(st.sets(st.sampled_from(TAGS), max_size=3), st.sampled_from(TYPES)),
                        max_size=14),
       queries=st.lists(st.tuples(st.sets(st.sampled_from(TAGS), max_size=3),
                                  st.sampled_from(["all", "any"]),
                                  st.sets(st.sampled_from(TAGS), max_size=2),
                                  st.sampled_from([None, *TYPES]), st.integers(1, 5)),
                        min_size=1, max_size=4))
def test_queries_equal_a_brute_force_filter(aws_stack, library, queries):
    tid = new_id(8)
    created = []
    for tags, ctype in library:
        body = {"type": ctype, "title": "x", "tags": sorted(tags)}
        body.update({"body": "b"} if ctype == "text" else {"url": "https://example.com"})
        created.append((content.create(tid, body)["id"], set(tags), ctype))
    for tags, match, exclude, ctype, limit in queries:
        q = Query(tuple(sorted(tags)), match, tuple(sorted(exclude)), ctype)
        expected = [cid for cid, held, t in sorted(created, reverse=True)
                    if (ctype is None or t == ctype) and not (held & exclude)
                    and (not tags or (tags <= held if match == "all" else bool(tags & held)))]
        assert _all(tid, q, limit) == expected


def test_content_times_come_from_the_one_clock(tid, monkeypatch):
    then = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
    monkeypatch.setattr("chalicelib.clock.now", lambda: then)
    made = content.create(tid, text_item(["a"]))
    assert made["created_at"] == made["updated_at"] == then.isoformat()
    assert content.new_content_id()[:9] == made["id"][:9]  # ids are time-ordered by that clock
    monkeypatch.setattr("chalicelib.clock.now", lambda: then + timedelta(hours=1))
    assert content.update(tid, made["id"], {"title": "b"})["updated_at"] == (
        then + timedelta(hours=1)).isoformat()
