"""Import and export benchmark on the embedded stack (moto over HTTP, as `make dev` runs it).

N users (100,000 full, 500 small):

- Import: a CSV of N users (openid, unionid, two tags, first_seen_at) uploaded to S3 and run by the
  data queue's worker as Lambda would (SQS messages into ``app.handle_data_jobs``), against the
  issue's Target, "Import of 100,000 users >= 0.3x raw batch_write": the users/s of raw
  BatchWriteItem — the low-level client, 25 items a call, items serialised before the clock
  starts, no reads, no conditions — of the very items the import stores per user (the user item,
  its identity items, tag postings and day buckets: what ``create_user`` writes, 7 items a user
  here) for N other users, in the same run. That is the floor of writing those users; an import
  cannot store a user without its identity items (they are how the user is found), so a
  comparison with one item per user would compare different amounts of data.
- Export: the same N users to CSV through the worker, against the raw Query+write rate: every
  user item Queried with the low-level connection (no model objects) and its JSON written to S3
  in a multipart upload of the same part size, in the same run. Peak RSS growth of the process
  during the export (the worker runs in this process; sampled from /proc/self/status every 5 ms)
  must stay <= 100 MB whatever N: the export streams.
Timed sections start from a collected, frozen heap (see bench.campaigns.settled). At the small
size each floor is measured before and after its subject and averaged and a re-import is timed;
at full size (about 40 minutes on a loaded 2-core machine) each floor runs once, after.
"""
from __future__ import annotations

import csv
import io
import threading
import time
from datetime import datetime, timedelta, timezone

from bench.campaigns import settled
from bench.common import counting, row

SIZES = {"small": 500, "full": 100_000}
MB = 1024 * 1024


def note(what: str, n: int, seconds: float) -> None:
    """Each timing as soon as it is taken (a full run is long; the table comes at the end)."""
    import sys

    print(f"    .. {what}: {n} in {seconds:.0f} s ({n / seconds:.0f}/s)", file=sys.stderr, flush=True)


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class PeakRss:
    """The highest RSS seen while the block runs, minus RSS at its start."""

    def __enter__(self) -> "PeakRss":
        self.start = self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_bytes())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())

    @property
    def growth(self) -> int:
        return self.peak - self.start


def users_csv(n: int) -> bytes:
    base = datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8)))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["openid", "unionid", "tags", "first_seen_at"])
    for i in range(n):
        writer.writerow([f"o-bench-{i:07d}", f"u-bench-{i:07d}", f"vip,t{i % 10}",
                         (base + timedelta(seconds=i)).isoformat()])
    return ("\ufeff" + out.getvalue()).encode()


def drain_data() -> int:
    import app as app_module
    from chalicelib.settings import get_settings
    from devstack.drain import drain_once

    return drain_once(get_settings().data_queue, app_module.handle_data_jobs, max_batches=100_000)


def run_import(tenant_id: str, data: bytes) -> dict:
    from chalicelib import aws
    from chalicelib.portability import imports
    from chalicelib.settings import get_settings

    job = imports.create(tenant_id, {"kind": "users", "format": "csv"})
    key = f"imports/{tenant_id}/{job['id']}.csv"
    aws.client("s3").put_object(Bucket=get_settings().bucket, Key=key, Body=data)
    imports.start(tenant_id, job["id"])
    drain_data()
    return imports.get(tenant_id, job["id"])


def import_floor(tenant_id: str, n: int) -> float:
    """Raw BatchWriteItem (low-level client, 25 items a call, unprocessed items re-sent) of what
    the import stores for n users; serialising the items is not timed."""
    from chalicelib import aws
    from chalicelib.audience import bulk
    from chalicelib.audience.models import AudienceItem as Item

    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    now = datetime.now(timezone.utc)
    requests = []
    for i in range(n):
        user = bulk.NewUser({"openid": f"o-floor-{i:07d}", "unionid": f"u-floor-{i:07d}"},
                            ["vip", f"t{i % 10}"], first_seen_at=base + timedelta(seconds=i))
        planned = bulk.plan(tenant_id, user, now)
        for item in (planned.record, *planned.identities, *planned.index_items):
            requests.append({"PutRequest": {"Item": item.serialize()}})
    client, table = aws.client("dynamodb"), Item.table_name()
    with settled():
        started = time.perf_counter()
        for i in range(0, len(requests), 25):
            pending = {table: requests[i:i + 25]}
            while pending:
                pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems")
        return time.perf_counter() - started


def export_floor(tenant_id: str, part_bytes: int) -> tuple[float, int]:
    """Query every user item (raw pages) and write their JSON to S3 in parts: the raw rate."""
    import json

    from chalicelib import aws
    from chalicelib.audience.models import AudienceItem as Item
    from chalicelib.settings import get_settings

    s3, bucket, key = aws.client("s3"), get_settings().bucket, f"bench/{tenant_id}/raw.jsonl"
    conn = Item.table()
    with settled():
        started = time.perf_counter()
        upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        parts, buffer, start_key, rows = [], bytearray(), None, 0
        while True:
            page = conn.query(tenant_id, range_key_condition=Item.sk.startswith("U#"),
                              exclusive_start_key=start_key)
            for item in page.get("Items", []):
                buffer += json.dumps(item).encode() + b"\n"
                rows += 1
            if len(buffer) >= part_bytes:
                parts.append(s3.upload_part(Bucket=bucket, Key=key, UploadId=upload,
                                            PartNumber=len(parts) + 1, Body=bytes(buffer))["ETag"])
                buffer = bytearray()
            start_key = page.get("LastEvaluatedKey")
            if not start_key:
                break
        parts.append(s3.upload_part(Bucket=bucket, Key=key, UploadId=upload,
                                    PartNumber=len(parts) + 1, Body=bytes(buffer))["ETag"])
        s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={
            "Parts": [{"ETag": e, "PartNumber": i + 1} for i, e in enumerate(parts)]})
        return time.perf_counter() - started, rows


def run_export(tenant_id: str) -> dict:
    from chalicelib.portability import exports

    job = exports.create(tenant_id, {"kind": "users", "format": "csv"})
    drain_data()
    return exports.get(tenant_id, job["id"])


def run(size: str) -> list[dict]:
    from tests.support import stack

    n, full = SIZES[size], size == "full"
    data = users_csv(n)
    with stack.moto_over_http():
        from chalicelib.auth import service as auth
        from chalicelib.settings import get_settings

        tenant_id = auth.create_tenant("bench-import")["tenant_id"]
        warm = auth.create_tenant("warm")["tenant_id"]
        run_import(warm, users_csv(50))  # a warm container: clients, queue URLs, imports
        run_export(warm)
        floors = [] if full else [import_floor(auth.create_tenant("floor-a")["tenant_id"], n)]
        with counting() as calls, settled():
            started = time.perf_counter()
            imported = run_import(tenant_id, data)
            import_time = time.perf_counter() - started
        note("import (users)", n, import_time)
        floors.append(import_floor(auth.create_tenant("floor-b")["tenant_id"], n))
        floor = sum(floors) / len(floors)
        note("raw BatchWriteItem of the same items (users)", n, floor)
        rerun = None
        if not full:
            rerun_started = time.perf_counter()
            rerun = run_import(tenant_id, data)
            rerun_time = time.perf_counter() - rerun_started

        part = get_settings().export_part_bytes
        raws = [] if full else [export_floor(tenant_id, part)]
        with PeakRss() as memory, settled():
            started = time.perf_counter()
            exported = run_export(tenant_id)
            export_time = time.perf_counter() - started
        note("export (rows)", n, export_time)
        raw_after, raw_rows = export_floor(tenant_id, part)
        raws = [t for t, _ in raws] + [raw_after]
        raw = sum(raws) / len(raws)
        note("raw Query+write (rows)", n, raw)
    import_ok = imported["rows_ok"] == n and imported["rows_failed"] == 0
    import_ratio = floor / import_time
    export_ratio = raw / export_time
    growth_mb = memory.growth / MB
    rows = [
        row(f"import of {n} users: rows ok", imported["rows_ok"], "rows", f"== {n}", import_ok),
        row("import users/s vs raw batch_write of the same items (Target)", import_ratio, "x",
            f">= 0.3 ({n / import_time:.0f}/s vs {n / floor:.0f}/s; "
            f"{calls.total * 1000 / n:.0f} AWS calls per 1,000 users)", import_ratio >= 0.3),
    ]
    if rerun is not None:
        rows.append(row("  re-import of the same file (no writes): users/s", n / rerun_time,
                        "users/s", f"ok {rerun['rows_ok']}", rerun["rows_ok"] == n))
    return rows + [
        row(f"export of {n} users: rows", exported["rows"], "rows", f"== {n} (raw {raw_rows})",
            exported["rows"] == n == raw_rows),
        row("export rows/s vs raw Query+write", export_ratio, "x",
            f">= 0.3 ({n / export_time:.0f}/s vs {n / raw:.0f}/s)", export_ratio >= 0.3),
        row("export peak RSS growth", growth_mb, "MB", "<= 100", growth_mb <= 100),
    ]
