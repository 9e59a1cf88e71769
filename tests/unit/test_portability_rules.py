"""Pure rules of exports, imports and webhooks: CSV cells and their formula guard, the encoder,
list cells, content-derived ids."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest

from chalicelib.portability import formats


@pytest.mark.parametrize("value, cell", [
    (None, ""), (True, "true"), (False, "false"), (3, "3"), (["vip", "北京"], "vip,北京"),
    ("=SUM(A1)", "'=SUM(A1)"), ("+86 138", "'+86 138"), ("-x", "'-x"), ("@here", "'@here"),
    ("'quoted", "'quoted"), ("plain", "plain"), ("'=x", "''=x"), ("''+1", "'''+1"),
])
def test_csv_cells_and_the_formula_guard(value, cell):
    assert formats.csv_cell(value) == cell
    if isinstance(value, str):
        assert formats.unguard(cell) == value  # what the importer reads back


def test_encoder_writes_a_bom_header_and_rows_that_csv_reads_back():
    enc = formats.Encoder("csv", ["id", "tags", "note"])
    enc.header()
    enc.write({"id": "a", "tags": ["x", "y"], "note": "多行\n文本, \"引号\""})
    data = enc.take()
    assert data.startswith(b"\xef\xbb\xbf") and enc.take() == b""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows == [["id", "tags", "note"], ["a", "x,y", "多行\n文本, \"引号\""]]


def test_jsonl_keeps_lists_and_only_the_columns():
    enc = formats.Encoder("jsonl", ["id", "tags"])
    enc.header()
    enc.write({"id": "a", "tags": ["x"], "secret": "no"})
    assert enc.take() == b'{"id":"a","tags":["x"]}\n'


def test_list_cells():
    assert formats.split_list("a, b,,c") == ["a", "b", "c"]
    assert formats.split_list(["a"]) == ["a"] and formats.split_list(None) == []
    with pytest.raises(TypeError):
        formats.split_list(3)


def test_ids_derive_from_content():
    from chalicelib.audience import bulk
    from chalicelib.hooks import consumers

    a = bulk.user_id_for("t1", {"openid": "o1", "unionid": "u1"})
    assert a == bulk.user_id_for("t1", {"unionid": "u1", "openid": "o1"}) and len(a) == 12
    assert a != bulk.user_id_for("t2", {"openid": "o1", "unionid": "u1"})
    at = datetime(2026, 11, 11, tzinfo=timezone.utc)
    event = {"type": "order_paid", "tenant_id": "t1", "at": at.isoformat(), "user_id": "u"}
    first = consumers.delivery_id("sub1", event, at)
    assert first == consumers.delivery_id("sub1", dict(event), at) and len(first) == 16
    assert first != consumers.delivery_id("sub2", event, at)
    later = consumers.delivery_id("sub1", {**event, "at": "x"}, datetime(2026, 11, 12, tzinfo=timezone.utc))
    assert later > first  # time-ordered: the log lists newest first
