"""Keep what the embedded moto server acknowledged: a write-ahead journal on top of snapshots.

Files (in the data directory, default ``.yutang-data/``):

- ``journal/<first seq>.log``: every mutating DynamoDB, S3 and SQS request the server accepted, in
  the order it applied them (framed records: length, CRC-32, sequence number, pickled request with
  the clock and random seed it ran under, see ``devstack.moto_server``). A record is written with
  ``os.write`` (no user-space buffer) *before* the answer is sent, so once a client has an answer
  the record is in the kernel: a ``kill -9`` of the process cannot lose it. ``fsync`` (which only
  matters if the machine itself dies) runs within a second by default, or before every answer with
  ``YUTANG_JOURNAL_FSYNC=always``.
- ``snapshot.bin``: the whole state of the three moto backends (tables, objects, queues with their
  messages in flight, receive counts, visibility and dead-letter queues) at one instant, taken
  under the lock that serialises every mutating request, with the sequence number of the last
  journal record it covers. Written to ``snapshot.bin.tmp``, fsynced, renamed over ``snapshot.bin``
  (one atomic rename: at any instant the file is the old or the new snapshot, never a mix, never
  missing), then the directory fsynced. Journal segments are deleted only after that.

On start: load the snapshot (checksum verified), replay the journal records after its sequence
number, then serve. A torn record at the end of a segment (a kill in the middle of a write) was
never answered, and is dropped.

Data directories written by earlier versions (``snapshot/`` with ``dynamodb.json`` and ``s3/``, or
``snapshot.old/`` when a kill fell between that format's two renames) are imported once by
:func:`restore_legacy`.

Snapshots hold moto's own objects (pickled): a data directory is tied to the moto version pinned in
``requirements-dev.txt``; after an upgrade that changes them, ``make clean-data``.
"""
from __future__ import annotations

import copyreg
import hashlib
import io
import json
import logging
import os
import pickle
import shutil
import struct
import zlib
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

log = logging.getLogger("yutang.local")

SERVICES = ("dynamodb", "s3", "sqs")
MAGIC = b"YUTANG-SNAPSHOT 1\n"
_HEADER = struct.Struct("<IIQ")  # payload length, crc32(payload), sequence number


# --- journal -------------------------------------------------------------------------------------

class Journal:
    """Append-only, segmented log of records (dicts); one writer at a time (the caller's lock)."""

    def __init__(self, directory: Path, fsync: str | None = None) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        policy = (fsync or os.environ.get("YUTANG_JOURNAL_FSYNC", "batch")).lower()
        self.fsync_always = policy == "always"
        self.seq = 0
        self._fd: int | None = None
        self._path: Path | None = None
        self._dirty = False
        self.bytes_since_rotate = 0
        self.records_since_rotate = 0

    def segments(self) -> list[Path]:
        return sorted(self.dir.glob("*.log"), key=lambda p: int(p.stem))

    def records(self, after: int = 0) -> Iterator[dict]:
        """Every intact record with a sequence number above ``after``, in order."""
        last = after
        for path in self.segments():
            data = path.read_bytes()
            pos = 0
            while pos + _HEADER.size <= len(data):
                length, crc, seq = _HEADER.unpack_from(data, pos)
                payload = data[pos + _HEADER.size:pos + _HEADER.size + length]
                if len(payload) < length or zlib.crc32(payload) != crc:
                    break
                pos += _HEADER.size + length
                if seq > last:
                    last = seq
                    yield pickle.loads(payload)
            if pos < len(data):
                log.warning("journal %s: dropped a torn record at byte %d (never answered)",
                            path.name, pos)

    def open(self, next_seq: int) -> None:
        """Start writing a new segment whose first record will be ``next_seq``."""
        self.close()
        self.seq = next_seq - 1
        self._path = self.dir / f"{next_seq:020d}.log"
        if self._path.exists():  # an empty or torn-only segment left by a kill: keep what is intact
            os.truncate(self._path, _intact_length(self._path.read_bytes()))
        self._fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        _fsync_dir(self.dir)
        self.bytes_since_rotate = 0
        self.records_since_rotate = 0

    def append(self, record: dict) -> int:
        if self._fd is None:
            raise RuntimeError("journal is not open")
        seq = self.seq + 1
        record["seq"] = seq
        payload = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(_HEADER.pack(len(payload), zlib.crc32(payload), seq) + payload)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        if self.fsync_always:
            os.fsync(self._fd)
        else:
            self._dirty = True
        self.seq = seq
        self.bytes_since_rotate += len(payload) + _HEADER.size
        self.records_since_rotate += 1
        return seq

    def sync(self) -> None:
        """fsync what was written."""
        if self._fd is not None and self._dirty:
            self._dirty = False
            os.fsync(self._fd)

    def sync_handle(self) -> int | None:
        """A duplicate of the segment's descriptor to fsync without the writers' lock (None when
        nothing was written since the last fsync); the caller closes it."""
        if self._fd is None or not self._dirty:
            return None
        self._dirty = False
        return os.dup(self._fd)

    def rotate(self) -> None:
        self.sync()
        self.open(self.seq + 1)

    def drop_through(self, seq: int) -> int:
        """Delete the closed segments whose records all have sequence numbers <= ``seq``."""
        dropped = 0
        segments = self.segments()
        for i, path in enumerate(segments):
            nxt = int(segments[i + 1].stem) if i + 1 < len(segments) else None
            if path != self._path and nxt is not None and nxt - 1 <= seq:
                path.unlink()
                dropped += 1
        return dropped

    def close(self) -> None:
        if self._fd is not None:
            self.sync()
            os.close(self._fd)
            self._fd = None


def _intact_length(data: bytes) -> int:
    pos = 0
    while pos + _HEADER.size <= len(data):
        length, crc, _ = _HEADER.unpack_from(data, pos)
        payload = data[pos + _HEADER.size:pos + _HEADER.size + length]
        if len(payload) < length or zlib.crc32(payload) != crc:
            break
        pos += _HEADER.size + length
    return pos


# --- snapshots -----------------------------------------------------------------------------------

def _rebuild_queue(cls: type, state: dict) -> Any:
    from threading import Condition

    queue = cls.__new__(cls)
    queue.__dict__.update(state)
    queue._messages_lock = Condition()
    return queue


def _reduce_queue(queue: Any) -> tuple:
    state = {k: v for k, v in queue.__dict__.items() if k != "_messages_lock"}
    return _rebuild_queue, (type(queue), state)


def _backend_dicts() -> dict[str, Any]:
    from moto.backends import get_backend

    return {service: get_backend(service) for service in SERVICES}


def dump_state() -> bytes:
    """Every account/region backend of the three services, pickled (call under the server lock)."""
    from moto.sqs.models import Queue

    state = {service: {account: dict(regions) for account, regions in backends.items()}
             for service, backends in _backend_dicts().items()}
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = copyreg.dispatch_table.copy()
    pickler.dispatch_table[Queue] = _reduce_queue
    pickler.dump(state)
    return buf.getvalue()


def install_state(blob: bytes) -> dict:
    """Load a :func:`dump_state` blob into moto's live backends (same objects, new contents)."""
    try:
        state = pickle.loads(blob)
    except Exception as err:  # noqa: BLE001 - say what to do instead of a bare traceback
        raise SnapshotError(f"the snapshot cannot be loaded by moto {_moto_version()} ({err!r}); "
                            "was moto upgraded? `make clean-data` starts fresh") from err
    backends = _backend_dicts()
    for service, accounts in state.items():
        for account, regions in accounts.items():
            for region, restored in regions.items():
                live = backends[service][account][region]
                live.__dict__.clear()
                live.__dict__.update(restored.__dict__)
    return counts()


def counts() -> dict:
    """What the live backends hold: items, objects, queue messages."""
    items = objects = messages = 0
    backends = _backend_dicts()
    for regions in backends["dynamodb"].values():
        for backend in regions.values():
            items += sum(len(table) for table in backend.tables.values())
    for regions in backends["s3"].values():
        for backend in regions.values():
            objects += sum(len(list(bucket.keys.values())) for bucket in backend.buckets.values())
    for regions in backends["sqs"].values():
        for backend in regions.values():
            messages += sum(len(queue._messages) for queue in backend.queues.values())
    return {"items": items, "objects": objects, "messages": messages}


def write_snapshot(data_dir: Path, blob: bytes, seq: int) -> Path:
    """Atomically replace ``snapshot.bin``: write a temporary file, fsync, rename, fsync the dir."""
    data_dir.mkdir(parents=True, exist_ok=True)
    meta = {"seq": seq, "sha256": hashlib.sha256(blob).hexdigest(), "size": len(blob),
            "created": datetime.now(timezone.utc).isoformat(), "moto": _moto_version()}
    tmp = data_dir / "snapshot.bin.tmp"
    final = data_dir / "snapshot.bin"
    with open(tmp, "wb") as f:
        f.write(MAGIC + json.dumps(meta).encode() + b"\n")
        f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, final)
    _fsync_dir(data_dir)
    return final


class SnapshotError(RuntimeError):
    pass


def read_snapshot(data_dir: Path) -> tuple[bytes | None, int]:
    """The snapshot's state blob and the journal sequence number it covers (None, 0 if none)."""
    path = data_dir / "snapshot.bin"
    (data_dir / "snapshot.bin.tmp").unlink(missing_ok=True)  # a save that never finished
    if not path.exists():
        return None, 0
    with open(path, "rb") as f:
        if f.readline() != MAGIC:
            raise SnapshotError(f"{path} is not a Yutang snapshot")
        meta = json.loads(f.readline())
        blob = f.read()
    if len(blob) != meta["size"] or hashlib.sha256(blob).hexdigest() != meta["sha256"]:
        raise SnapshotError(f"{path} is damaged (checksum mismatch); move it away or make clean-data")
    return blob, int(meta["seq"])


def _moto_version() -> str:
    from importlib.metadata import version

    return version("moto")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- data directories of earlier versions ----------------------------------------------------------

def legacy_snapshot_dir(data_dir: Path) -> Path | None:
    """The old-format snapshot to import. That format saved in two renames (``snapshot`` ->
    ``snapshot.old``, then the fully written ``snapshot.tmp`` -> ``snapshot``); a kill between them
    left no ``snapshot/``, and the old restore then started empty. Here: ``snapshot/`` if present;
    else, when ``snapshot.old/`` is there, the kill fell between the renames, so ``snapshot.tmp/``
    is complete and newest (it was renamed only once written) and is used, or ``snapshot.old/``."""
    def usable(name: str) -> bool:
        return (data_dir / name / "dynamodb.json").exists()

    if usable("snapshot"):
        return data_dir / "snapshot"
    if usable("snapshot.old"):
        return data_dir / ("snapshot.tmp" if usable("snapshot.tmp") else "snapshot.old")
    return None


def restore_legacy(data_dir: Path) -> dict:
    """Import an old-format snapshot through the API (tables and bucket must exist)."""
    from chalicelib import aws
    from chalicelib.settings import get_settings

    counts_ = {"items": 0, "objects": 0}
    source = legacy_snapshot_dir(data_dir)
    if source is None:
        return counts_
    tables = json.loads((source / "dynamodb.json").read_text())
    ddb = aws.client("dynamodb")
    prefix = get_settings().table_prefix
    for base, items in tables.items():
        for i in range(0, len(items), 25):
            ddb.batch_write_item(RequestItems={prefix + base: [
                {"PutRequest": {"Item": item}} for item in items[i:i + 25]]})
        counts_["items"] += len(items)
    s3 = aws.client("s3")
    bucket = get_settings().bucket
    root = source / "s3"
    for dirpath, _, files in os.walk(root):
        for fname in files:
            path = Path(dirpath) / fname
            s3.put_object(Bucket=bucket, Key=str(path.relative_to(root)), Body=path.read_bytes())
            counts_["objects"] += 1
    return counts_


def remove_legacy(data_dir: Path) -> None:
    for name in ("snapshot", "snapshot.old", "snapshot.tmp"):
        shutil.rmtree(data_dir / name, ignore_errors=True)
