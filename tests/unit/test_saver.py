"""When `make dev` snapshots (devstack/dev.py _Saver): the journal fsynced every tick; a snapshot
when the interval passed and something was written, or when the journal grew past its bounds;
never for an idle stack; always on a clean stop."""
from __future__ import annotations

import time
from types import SimpleNamespace

from devstack.dev import _Saver


class FakeMoto:
    def __init__(self) -> None:
        self.journal = SimpleNamespace(bytes_since_rotate=0, records_since_rotate=0)
        self.written = 0
        self.snapshots = 0
        self.syncs = 0

    def sync(self) -> None:
        self.syncs += 1

    def pending(self) -> int:
        return self.written

    def snapshot(self) -> dict:
        self.snapshots += 1
        self.written = 0
        self.journal.bytes_since_rotate = self.journal.records_since_rotate = 0
        return {"items": 1, "objects": 0, "messages": 0}


def _until(saver: _Saver, done, limit: float = 20.0) -> None:
    """Run the saver until ``done()`` (or the limit: a loaded machine may starve the thread)."""
    saver.start()
    deadline = time.monotonic() + limit
    while not done() and time.monotonic() < deadline:
        time.sleep(0.01)
    saver._stop.set()
    saver._thread.join()


def test_an_idle_stack_is_fsynced_but_not_snapshotted(tmp_path):
    moto = FakeMoto()
    _until(_Saver(moto, tmp_path, every=0.01, tick=0.01), lambda: moto.syncs >= 10)
    assert moto.syncs >= 10 and moto.snapshots == 0


def test_writes_are_snapshotted_after_the_interval(tmp_path):
    moto = FakeMoto()
    moto.written = 5
    _until(_Saver(moto, tmp_path, every=0.05, tick=0.01), lambda: moto.snapshots >= 1)
    assert moto.snapshots == 1 and moto.written == 0


def test_not_before_the_interval(tmp_path):
    moto = FakeMoto()
    moto.written = 5
    _until(_Saver(moto, tmp_path, every=3600, tick=0.01), lambda: moto.syncs >= 10)
    assert moto.snapshots == 0


def test_a_long_journal_is_snapshotted_before_the_interval(tmp_path):
    moto = FakeMoto()
    moto.written = 30
    moto.journal.records_since_rotate = 30
    _until(_Saver(moto, tmp_path, every=3600, max_records=20, tick=0.01),
           lambda: moto.snapshots >= 1)
    assert moto.snapshots == 1
    moto.written = 1
    moto.journal.bytes_since_rotate = 100
    _until(_Saver(moto, tmp_path, every=3600, max_bytes=50, tick=0.01),
           lambda: moto.snapshots >= 2)
    assert moto.snapshots == 2


def test_a_clean_stop_snapshots(tmp_path, capsys):
    moto = FakeMoto()
    saver = _Saver(moto, tmp_path, every=3600, tick=0.02)
    saver.start()
    saver.stop()
    assert moto.snapshots == 1 and "saved 1 items" in capsys.readouterr().out
