"""Snapshot files and the journal (devstack/persist.py): a kill at any step of a save loses nothing
that was journaled; torn records are dropped; old-format data directories are found, including
the ``snapshot.old`` a kill between that format's two renames left behind."""
from __future__ import annotations

import json

import pytest

from devstack import persist


def _journal(tmp_path, n: int, start: int = 1) -> persist.Journal:
    journal = persist.Journal(tmp_path / "journal", fsync="always")
    journal.open(start)
    for i in range(n):
        journal.append({"i": start + i})
    return journal


def test_records_come_back_in_order_after_a_sequence_number(tmp_path):
    journal = _journal(tmp_path, 5)
    journal.rotate()
    journal.append({"i": 6})
    assert [r["i"] for r in journal.records()] == [1, 2, 3, 4, 5, 6]
    assert [r["seq"] for r in journal.records(after=4)] == [5, 6]


def test_a_torn_record_is_dropped_and_the_next_segment_still_read(tmp_path):
    journal = _journal(tmp_path, 3)
    journal.close()
    segment = journal.segments()[0]
    data = segment.read_bytes()
    segment.write_bytes(data[:-4])  # a kill in the middle of the third record's write
    again = persist.Journal(tmp_path / "journal")
    assert [r["i"] for r in again.records()] == [1, 2]
    again.open(3)  # the restart writes record 3 anew, in a new segment
    again.append({"i": "3b"})
    assert [r["i"] for r in again.records()] == [1, 2, "3b"]


def test_a_torn_only_segment_is_truncated_before_it_is_appended_to(tmp_path):
    journal = _journal(tmp_path, 2)
    journal.rotate()  # segment 3 opened ...
    journal.append({"i": 3})
    journal.close()
    last = journal.segments()[-1]
    last.write_bytes(last.read_bytes()[:7])  # ... and its only record torn
    again = persist.Journal(tmp_path / "journal")
    assert [r["i"] for r in again.records()] == [1, 2]
    again.open(3)
    again.append({"i": "3b"})
    assert [r["i"] for r in again.records()] == [1, 2, "3b"]


def test_drop_through_keeps_what_the_snapshot_does_not_cover(tmp_path):
    journal = _journal(tmp_path, 3)
    journal.rotate()
    journal.append({"i": 4})
    journal.rotate()  # the snapshot's cut: it covers 1..4
    assert journal.drop_through(4) == 2
    journal.append({"i": 5})
    assert [r["i"] for r in journal.records()] == [5]
    assert journal.drop_through(4) == 0


def _save(tmp_path, text: str, seq: int) -> None:
    persist.write_snapshot(tmp_path, text.encode(), seq)


def test_a_snapshot_replaces_the_previous_one_in_one_rename(tmp_path):
    _save(tmp_path, "first", 3)
    _save(tmp_path, "second", 9)
    assert persist.read_snapshot(tmp_path) == (b"second", 9)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snapshot.bin"]


@pytest.mark.parametrize("torn_at", [0, 10, 40])
def test_a_kill_while_the_snapshot_is_written_keeps_the_previous_one(tmp_path, torn_at):
    _save(tmp_path, "previous", 3)
    (tmp_path / "snapshot.bin.tmp").write_bytes((persist.MAGIC + b'{"seq": 9')[:torn_at])
    assert persist.read_snapshot(tmp_path) == (b"previous", 3)
    assert not (tmp_path / "snapshot.bin.tmp").exists()


def test_a_kill_after_rotation_before_the_snapshot_replays_from_the_previous_cut(tmp_path):
    """The cut rotated the journal (records 1..4 covered) but the new snapshot never landed: the
    previous snapshot (seq 2) and every segment are still there, so records 3.. replay."""
    _save(tmp_path, "at-2", 2)
    journal = _journal(tmp_path, 4)
    journal.rotate()
    journal.append({"i": 5})
    blob, seq = persist.read_snapshot(tmp_path)
    assert (blob, seq) == (b"at-2", 2)
    assert [r["i"] for r in persist.Journal(tmp_path / "journal").records(after=seq)] == [3, 4, 5]


def test_a_damaged_snapshot_stops_the_start_instead_of_losing_data(tmp_path):
    _save(tmp_path, "precious", 1)
    path = tmp_path / "snapshot.bin"
    path.write_bytes(path.read_bytes()[:-1] + b"X")
    with pytest.raises(persist.SnapshotError):
        persist.read_snapshot(tmp_path)


def _legacy(path) -> None:
    (path / "s3").mkdir(parents=True)
    (path / "dynamodb.json").write_text(json.dumps({"contents": []}))


def test_old_format_snapshot_is_found(tmp_path):
    assert persist.legacy_snapshot_dir(tmp_path) is None
    _legacy(tmp_path / "snapshot")
    assert persist.legacy_snapshot_dir(tmp_path) == tmp_path / "snapshot"


def test_old_format_kill_between_its_two_renames_is_not_an_empty_start(tmp_path):
    """The old saver renamed snapshot -> snapshot.old, then the complete snapshot.tmp -> snapshot: a
    kill between the two left no ``snapshot/``; the old restore ignored the rest and started empty."""
    _legacy(tmp_path / "snapshot.old")
    assert persist.legacy_snapshot_dir(tmp_path) == tmp_path / "snapshot.old"
    _legacy(tmp_path / "snapshot.tmp")  # the newer one, complete (renamed only once written)
    assert persist.legacy_snapshot_dir(tmp_path) == tmp_path / "snapshot.tmp"
    persist.remove_legacy(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_old_format_partial_tmp_without_a_rename_is_ignored(tmp_path):
    _legacy(tmp_path / "snapshot")
    (tmp_path / "snapshot.tmp" / "s3").mkdir(parents=True)  # killed while writing: no dynamodb.json
    assert persist.legacy_snapshot_dir(tmp_path) == tmp_path / "snapshot"
