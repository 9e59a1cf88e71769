"""An in-process moto server (DynamoDB, S3, SQS) on loopback that keeps what it acknowledges.

Serialisation. moto applies a DynamoDB conditional write as read-check-write without a lock, so two
threads could both pass a condition that DynamoDB would serialise. One lock orders every DynamoDB
request and every *mutating* S3 and SQS request (reads of S3 and SQS run concurrently), which makes
capacity races behave as on AWS and gives the journal one total order of all changes.

Durability (with a data directory, see ``devstack.persist``). Under that lock, each mutating
request is applied, then appended to the journal, and only then answered; a snapshot takes the
same lock, so it is a consistent cut of all three services at one instant, and notes the last
journal record it covers. On start, the snapshot is loaded and the later records are replayed
through the same moto application.

Deterministic replay. moto draws message ids, receipt handles and request ids from one random
generator and reads the clock for SQS timestamps (sent, first receive, visibility, delay). Each
request runs with its own seeded generator and a frozen clock (a thread-local override of
``mock_random`` and ``moto.core.utils.utcnow``); the seed and the instant are journaled, so the
replay produces the same ids, receipt handles and visibility deadlines as the original run, and a
later DeleteMessage with a receipt handle given before the kill still finds its message. Each
record also keeps a CRC of the original answer; a replay that answers differently is counted in
``replay_divergences`` and logged.

SQS receives. A ReceiveMessage changes state (receive count, visibility, moves to the dead-letter
queue), so it is journaled. A long poll must not hold the lock for its whole wait: the server
answers it by trying ``WaitTimeSeconds=0`` under the lock, and waiting between tries without it
(woken by any SQS change, at least every 0.2 s). An empty receive that moved nothing is not
journaled.

Transactions: ``devstack.moto_transact`` (installed here) keeps TransactWriteItems from copying
whole tables.
"""
from __future__ import annotations

import argparse
import io
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

log = logging.getLogger("yutang.local")

_READ_ONLY = {
    "dynamodb": {"GetItem", "BatchGetItem", "Query", "Scan", "DescribeTable", "ListTables",
                 "DescribeTimeToLive", "TransactGetItems", "ListTagsOfResource",
                 "DescribeContinuousBackups", "DescribeEndpoints", "DescribeLimits",
                 "ListBackups", "DescribeBackup", "ListGlobalTables", "DescribeGlobalTable",
                 "DescribeKinesisStreamingDestination", "GetResourcePolicy"},
    "sqs": {"GetQueueUrl", "GetQueueAttributes", "ListQueues", "ListQueueTags",
            "ListDeadLetterSourceQueues", "ListMessageMoveTasks"},
}
_CRED_SERVICE = re.compile(r"Credential=[^/,\s]+/[^/]+/[^/]+/([^/]+)/")
_SIGNATURE = re.compile(r"(Signature=)[0-9a-fA-F]+")
_CGI_KEYS = ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
             "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "wsgi.url_scheme")


# --- deterministic clock and random, per request -----------------------------------------------

_local = threading.local()
_installed = False


def install_determinism() -> None:
    """Route moto's random generator and UTC clock through per-thread overrides (once)."""
    global _installed
    if _installed:
        return
    import moto.core.utils as core_utils
    from moto.moto_api._internal import mock_random

    real_utcnow = core_utils.utcnow
    real_getrandbits, real_random = mock_random.getrandbits, mock_random.random

    def utcnow() -> datetime:
        frozen = getattr(_local, "now", None)
        return real_utcnow() if frozen is None else frozen

    def getrandbits(k: int) -> int:
        rng = getattr(_local, "rng", None)
        return real_getrandbits(k) if rng is None else rng.getrandbits(k)

    def random_() -> float:
        rng = getattr(_local, "rng", None)
        return real_random() if rng is None else rng.random()

    core_utils.utcnow = utcnow
    for name, module in list(sys.modules.items()):  # modules that imported utcnow by name
        if name.startswith("moto.") and getattr(module, "utcnow", None) is real_utcnow:
            module.utcnow = utcnow
    mock_random.getrandbits = getrandbits
    mock_random.random = random_
    _installed = True


@contextmanager
def frozen(now: float, seed: int) -> Iterator[None]:
    """moto sees the instant ``now`` and a generator seeded with ``seed`` in this thread."""
    from random import Random

    _local.now = datetime.fromtimestamp(now, timezone.utc).replace(tzinfo=None)
    _local.rng = Random(seed)
    try:
        yield
    finally:
        _local.now = None
        _local.rng = None


# --- classification ------------------------------------------------------------------------------

class Kind:
    __slots__ = ("service", "action", "mutating", "serialise")

    def __init__(self, service: str, action: str, mutating: bool, serialise: bool) -> None:
        self.service, self.action, self.mutating, self.serialise = (service, action, mutating,
                                                                     serialise)


def classify(environ: dict, body: bytes) -> Kind:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    method = environ.get("REQUEST_METHOD", "GET")
    if target.startswith("DynamoDB"):
        action = target.rsplit(".", 1)[-1]
        return Kind("dynamodb", action, action not in _READ_ONLY["dynamodb"], True)
    if target.startswith("AmazonSQS"):
        action = target.rsplit(".", 1)[-1]
        mutating = action not in _READ_ONLY["sqs"]
        return Kind("sqs", action, mutating, mutating)
    found = _CRED_SERVICE.search(environ.get("HTTP_AUTHORIZATION", "")) or _CRED_SERVICE.search(
        "Credential=" + dict(parse_qsl(environ.get("QUERY_STRING", ""))).get("X-Amz-Credential", ""))
    service = found.group(1) if found else ""
    if service == "sqs":  # the query protocol: Action in the form body
        action = dict(parse_qsl(body.decode("utf-8", "replace"))).get("Action", "")
        mutating = action not in _READ_ONLY["sqs"]
        return Kind("sqs", action, mutating, mutating)
    mutating = method not in ("GET", "HEAD", "OPTIONS")
    return Kind(service or "s3", method, mutating, mutating)


def _with_wait_zero(environ: dict, body: bytes) -> tuple[bytes, float]:
    """The receive request with WaitTimeSeconds=0, and the wait it asked for."""
    if environ.get("HTTP_X_AMZ_TARGET"):
        data = json.loads(body or b"{}")
        wait = float(data.get("WaitTimeSeconds") or 0)
        data["WaitTimeSeconds"] = 0
        return json.dumps(data).encode(), wait
    form = parse_qsl(body.decode())
    wait = float(dict(form).get("WaitTimeSeconds") or 0)
    form = [(k, v) for k, v in form if k != "WaitTimeSeconds"] + [("WaitTimeSeconds", "0")]
    return urlencode(form).encode(), wait


def _sqs_message_counts() -> list[int]:
    """Messages per queue: a receive that moved a message to a dead-letter queue changes it."""
    from moto.backends import get_backend

    return [len(q._messages) for regions in get_backend("sqs").values()
            for backend in regions.values() for q in backend.queues.values()]


def _run(app: Callable, environ: dict) -> tuple[str, list, bytes]:
    captured: dict = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: list, exc_info: Any = None) -> Callable:
        captured["status"], captured["headers"] = status, headers
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return captured["status"], captured["headers"], b"".join(chunks)


def _environ_for(recorded: dict, body: bytes) -> dict:
    environ = dict(recorded)
    environ.update({"wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
                    "wsgi.version": (1, 0), "wsgi.multithread": True,
                    "wsgi.multiprocess": False, "wsgi.run_once": False,
                    "CONTENT_LENGTH": str(len(body))})
    return environ


def _recordable(environ: dict) -> dict:
    kept = {k: v for k, v in environ.items()
            if (k.startswith("HTTP_") or k in _CGI_KEYS) and isinstance(v, str)}
    kept.pop("HTTP_TRANSFER_ENCODING", None)
    if "HTTP_AUTHORIZATION" in kept:  # keep the credential scope moto routes by, not the signature
        kept["HTTP_AUTHORIZATION"] = _SIGNATURE.sub(r"\g<1>0", kept["HTTP_AUTHORIZATION"])
    if "X-Amz-Signature" in kept.get("QUERY_STRING", ""):
        kept["QUERY_STRING"] = re.sub(r"(X-Amz-Signature=)[0-9a-fA-F]+", r"\g<1>0",
                                      kept["QUERY_STRING"])
    return kept


# --- the WSGI wrapper ----------------------------------------------------------------------------

class DurableApp:
    """Serialise, apply, journal, answer (see the module docstring)."""

    def __init__(self, app: Callable, journal: Any = None, crash_after_writes: int = 0) -> None:
        self.app = app
        self.journal = journal
        self.lock = threading.Lock()
        self._sqs_changed = threading.Condition()
        self.replay_divergences = 0
        # testing aid (YUTANG_DEV_CRASH_AFTER_WRITES, YUTANG_DEV_CRASH_MATCH): SIGKILL this process
        # right after the Nth journaled write (whose body contains the match, if one is given),
        # before its answer: a kill -9 at an exact point of a workload
        self.crash_after_writes = crash_after_writes
        self.crash_match = b""
        self.writes = 0

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        from werkzeug.wsgi import get_input_stream

        body = get_input_stream(environ).read()
        kind = classify(environ, body)
        if not kind.serialise:
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            return self.app(environ, start_response)
        recorded = _recordable(environ)
        if kind.service == "sqs" and kind.action == "ReceiveMessage":
            status, headers, out = self._receive(recorded, body)
        else:
            status, headers, out = self._apply(recorded, body, kind)
        start_response(status, headers)
        return [out]

    def _apply(self, recorded: dict, body: bytes, kind: Kind,
               only_if_changed: bool = False) -> tuple[str, list, bytes]:
        with self.lock:
            now, seed = time.time(), int.from_bytes(os.urandom(8), "little")
            before = _sqs_message_counts() if only_if_changed else None
            with frozen(now, seed):
                status, headers, out = _run(self.app, _environ_for(recorded, body))
            if kind.mutating and self.journal is not None and not (
                    only_if_changed and b'"ReceiptHandle"' not in out
                    and b"<ReceiptHandle>" not in out and _sqs_message_counts() == before):
                self.journal.append({"now": now, "seed": seed, "environ": recorded, "body": body,
                                     "crc": zlib.crc32(out)})
                self.writes += not self.crash_match or self.crash_match in body
                if self.writes == self.crash_after_writes:
                    log.warning("YUTANG_DEV_CRASH_AFTER_WRITES=%d reached: SIGKILL",
                                self.crash_after_writes)
                    os.kill(os.getpid(), signal.SIGKILL)
        if kind.service == "sqs" and not only_if_changed:
            with self._sqs_changed:
                self._sqs_changed.notify_all()
        return status, headers, out

    def _receive(self, recorded: dict, body: bytes) -> tuple[str, list, bytes]:
        body, wait = _with_wait_zero(recorded, body)
        recorded = {**recorded, "CONTENT_LENGTH": str(len(body))}
        deadline = time.monotonic() + wait
        kind = Kind("sqs", "ReceiveMessage", True, True)
        while True:
            with self._sqs_changed:  # a send between our try and our wait wakes us
                status, headers, out = self._apply(recorded, body, kind, only_if_changed=True)
                remaining = deadline - time.monotonic()
                if (not status.startswith("200") or b"ReceiptHandle" in out or remaining <= 0):
                    return status, headers, out
                self._sqs_changed.wait(min(remaining, 0.2))

    def replay(self, record: dict) -> None:
        with frozen(record["now"], record["seed"]):
            _, _, out = _run(self.app, _environ_for(record["environ"], record["body"]))
        if zlib.crc32(out) != record["crc"]:
            self.replay_divergences += 1
            log.warning("journal record %s replayed with a different answer", record.get("seq"))


class MotoServer:
    """moto on loopback; with ``data_dir``, restored on start and journaled while it runs."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 data_dir: Path | str | None = None) -> None:
        self.host, self.port = host, port
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self._server = None
        self._thread: threading.Thread | None = None
        self.app: DurableApp | None = None
        self.journal = None
        self.restored: dict | None = None
        self._snapshot_lock = threading.Lock()
        self.last_snapshot_seq = 0

    def start(self) -> str:
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import WSGIRequestHandler, make_server

        from devstack import moto_transact

        class QuietHandler(WSGIRequestHandler):
            def log_request(self, *args, **kwargs) -> None:  # one line per AWS call is noise
                pass

        moto_transact.install()
        install_determinism()
        self.app = DurableApp(DomainDispatcherApplication(create_backend_app))
        if self.data_dir is not None:
            self._restore()
            self.app.crash_after_writes = int(os.environ.get("YUTANG_DEV_CRASH_AFTER_WRITES") or 0)
            self.app.crash_match = os.environ.get("YUTANG_DEV_CRASH_MATCH", "").encode()
        self._server = make_server(self.host, self.port, self.app, threaded=True,
                                   request_handler=QuietHandler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="moto-server")
        self._thread.start()
        return self.url

    def _restore(self) -> None:
        from devstack import persist

        assert self.app is not None and self.data_dir is not None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        blob, seq = persist.read_snapshot(self.data_dir)
        if blob is not None:
            persist.install_state(blob)
        journal = persist.Journal(self.data_dir / "journal")
        replayed = 0
        last = seq
        for record in journal.records(after=seq):
            self.app.replay(record)
            last = record["seq"]
            replayed += 1
        journal.open(last + 1)
        self.journal = self.app.journal = journal
        self.last_snapshot_seq = seq
        self.restored = {**persist.counts(), "snapshot": blob is not None, "replayed": replayed,
                         "divergences": self.app.replay_divergences,
                         "seconds": round(time.monotonic() - started, 2)}
        if replayed:
            self.snapshot()  # the next start need not replay the same records again

    def snapshot(self) -> dict | None:
        """Save a consistent cut of all services; then drop the journal it covers."""
        from devstack import persist

        if self.app is None or self.journal is None or self.data_dir is None:
            return None
        with self._snapshot_lock:
            with self.app.lock:
                blob = persist.dump_state()
                seq = self.journal.seq
                self.journal.rotate()
                counts = persist.counts()
            persist.write_snapshot(self.data_dir, blob, seq)
            self.journal.drop_through(seq)
            self.last_snapshot_seq = seq
        return {**counts, "seq": seq, "bytes": len(blob)}

    def pending(self) -> int:
        """Journal records written since the last snapshot."""
        return 0 if self.journal is None else self.journal.seq - self.last_snapshot_seq

    def sync(self) -> None:
        """fsync the journal; the disk flush runs outside the lock, requests go on meanwhile."""
        if self.journal is None or self.app is None:
            return
        with self.app.lock:
            fd = self.journal.sync_handle()
        if fd is not None:
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self.journal is not None and self.app is not None:
            with self.app.lock:
                self.journal.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m devstack.moto_server --data-dir D``: the durable server alone (used by tests)."""
    p = argparse.ArgumentParser(description="durable embedded moto server")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--data-dir", required=True)
    p.add_argument("--snapshot-every", type=float, default=0.0,
                   help="seconds between snapshots (0: only the one after a replay)")
    args = p.parse_args(argv)
    server = MotoServer(port=args.port, data_dir=args.data_dir)
    url = server.start()
    print(json.dumps({"url": url, "restored": server.restored}), flush=True)
    while True:
        time.sleep(args.snapshot_every or 3600)
        if args.snapshot_every:
            server.snapshot()


if __name__ == "__main__":
    sys.exit(main())
