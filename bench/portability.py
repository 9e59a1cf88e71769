"""Import and export benchmark on the embedded stack (moto over HTTP, as `make dev` runs it).

N users (100,000 full, 500 small):

- Import: a CSV of N users (openid, unionid, two tags, first_seen_at) uploaded to S3 and run by the
  data queue's worker as Lambda would (SQS messages into ``app.handle_data_jobs``), against the
  floor of any such import: BatchWriteItem of the very items it writes (user, identities, tag
  postings, day buckets — what ``create_user`` writes) for N other users, in the same run. Also
  printed against writing one item per user.
- Export: the same N users to CSV through the worker, against the raw Query+write rate: every
  user item Queried with the low-level connection (no model objects) and its JSON written to S3
  in a multipart upload of the same part size, in the same run. Peak RSS growth of the process
  during the export (the worker runs in this process; sampled from /proc/self/status every 5 ms)
  must stay ≤ 100 MB whatever N: the export streams.
Timed sections start from a collected, frozen heap (see bench.campaigns.settled).
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


def import_floor(tenant_id: str, n: int, same_items: bool) -> float:
    """BatchWriteItem of what the import writes for n users (or one user item each)."""
    from chalicelib.audience import bulk
    from chalicelib.audience.models import AudienceItem as Item

    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    now = datetime.now(timezone.utc)
    users = [bulk.NewUser({"openid": f"o-floor-{i:07d}", "unionid": f"u-floor-{i:07d}"},
                          ["vip", f"t{i % 10}"], first_seen_at=base + timedelta(seconds=i))
             for i in range(n)]
    with settled():
        started = time.perf_counter()
        with Item.batch_write() as batch:
            for user in users:
                record, others = bulk._items(tenant_id, user, now)
                batch.save(record)
                for item in others if same_items else ():
                    batch.save(item)
        return time.perf_counter() - started


def export_floor(tenant_id: str, part_bytes: int) -> tuple[float, int]:
    """Query every user item (raw pages) and write their JSON to S3 in parts: the raw rate."""
    import json

    from chalicelib import aws
    from chalicelib.audience.models import AudienceItem as Item
    from chalicelib.settings import get_settings

    s3, bucket, key = aws.client("s3"), get_settings().bucket, f"bench/{tenant_id}/raw.jsonl"
    conn = Item._get_connection()
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

    n = SIZES[size]
    data = users_csv(n)
    with stack.moto_over_http():
        from chalicelib.auth import service as auth
        from chalicelib.settings import get_settings

        tenant_id = auth.create_tenant("bench-import")["tenant_id"]
        warm = auth.create_tenant("warm")["tenant_id"]
        run_import(warm, users_csv(50))  # a warm container: clients, queue URLs, imports
        run_export(warm)
        floor_before = import_floor(auth.create_tenant("floor-a")["tenant_id"], n, True)
        with counting() as calls, settled():
            started = time.perf_counter()
            imported = run_import(tenant_id, data)
            import_time = time.perf_counter() - started
        floor_after = import_floor(auth.create_tenant("floor-b")["tenant_id"], n, True)
        one_item = import_floor(auth.create_tenant("floor-c")["tenant_id"], n, False)
        floor = (floor_before + floor_after) / 2
        rerun_started = time.perf_counter()
        rerun = run_import(tenant_id, data)
        rerun_time = time.perf_counter() - rerun_started

        raw_time, raw_rows = export_floor(tenant_id, get_settings().export_part_bytes)
        with PeakRss() as memory, settled():
            started = time.perf_counter()
            exported = run_export(tenant_id)
            export_time = time.perf_counter() - started
        raw_after, _ = export_floor(tenant_id, get_settings().export_part_bytes)
        raw = (raw_time + raw_after) / 2
    import_ok = imported["rows_ok"] == n and imported["rows_failed"] == 0
    import_ratio = floor / import_time
    export_ratio = raw / export_time
    growth_mb = memory.growth / MB
    return [
        row(f"import of {n} users: rows ok", imported["rows_ok"], "rows", f"== {n}", import_ok),
        row("import users/s vs batch_write of the same items", import_ratio, "x",
            f">= 0.3 ({n / import_time:.0f}/s vs {n / floor:.0f}/s)", import_ratio >= 0.3),
        row("  import users/s vs batch_write of one item per user", one_item / import_time, "x",
            f"{n / one_item:.0f} users/s; {calls.total * 1000 / n:.0f} AWS calls per 1,000"),
        row("  re-import of the same file (no writes): users/s", n / rerun_time, "users/s",
            f"ok {rerun['rows_ok']}", rerun["rows_ok"] == n),
        row(f"export of {n} users: rows", exported["rows"], "rows", f"== {n} (raw {raw_rows})",
            exported["rows"] == n == raw_rows),
        row("export rows/s vs raw Query+write", export_ratio, "x",
            f">= 0.3 ({n / export_time:.0f}/s vs {n / raw:.0f}/s)", export_ratio >= 0.3),
        row("export peak RSS growth", growth_mb, "MB", "<= 100", growth_mb <= 100),
    ]
