"""The data jobs table: exports and imports, each one item holding its request, progress and the
worker's resume state. (The scan log, for the ``scans`` export, is at the end.)

Keys: ``tenant_id`` / ``sk`` = ``X#<job>`` (an export) or ``I#<job>`` (an import). Job ids are
time-ordered (:func:`chalicelib.portability.jobs.new_job_id`), so a descending Query lists newest
first.

Access patterns:
- GetItem (tenant, ``X#<id>`` / ``I#<id>``): the API's status reads and every worker step.
- Query ``begins_with(X#)`` / ``begins_with(I#)`` descending, ``sk < X#<cursor>``: the listings.
- UpdateItem with ``step = :n`` as the condition: a worker step commits its progress and its resume
  state only if no other delivery of the same step did first (SQS delivers at least once).
Items carry ``expires`` (epoch seconds, 30 days) for the table's TTL; the files under
``exports/`` and ``imports/`` in the bucket are expected to have a matching lifecycle rule.
"""
from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, LocalSecondaryIndex

from chalicelib.db import BaseModel


class DataJob(BaseModel):
    class Meta:
        table_name = "data_jobs"

    tenant_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    job_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    format = UnicodeAttribute()
    status = UnicodeAttribute()  # created (imports awaiting their file) | queued | running | done | failed
    filter = JSONAttribute(null=True)
    object_key = UnicodeAttribute()  # the export written, or the import's uploaded file
    timezone = UnicodeAttribute(null=True)
    rows = NumberAttribute(default=0)  # exports: rows written; imports: rows read so far
    rows_ok = NumberAttribute(default=0)
    rows_failed = NumberAttribute(default=0)
    rows_total = NumberAttribute(null=True)  # imports: known once the whole file was read
    errors = JSONAttribute(null=True)  # imports: the first 100 row errors
    error = UnicodeAttribute(null=True)
    step = NumberAttribute(default=0)
    state = JSONAttribute(null=True)  # the worker's resume point (see exports / imports)
    created_at = UTCDateTimeAttribute()
    started_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)
    expires = TTLAttribute(null=True)

    @staticmethod
    def export_key(job_id: str = "") -> str:
        return f"X#{job_id}"

    @staticmethod
    def import_key(job_id: str = "") -> str:
        return f"I#{job_id}"


class ScanCodeIndex(LocalSecondaryIndex):
    class Meta:
        index_name = "code-index"
        projection = AllProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    code_key = UnicodeAttribute(range_key=True)


class ScanRecord(BaseModel):
    """The scan log (``chalicelib.portability.scanlog``): one item per scan.

    Keys: ``tenant_id`` / ``sk`` = ``<UTC time, microseconds>#<digest>``; LSI ``code-index`` on
    ``code_key`` = ``<code>#<time>#<digest>``.
    Access patterns: BatchWriteItem per events batch (the consumer); Query ``sk BETWEEN`` a time
    range, or the LSI ``begins_with(<code>#)`` / ``BETWEEN <code>#<from> AND <code>#<to>``: the
    ``scans`` export, in time order. TTL ``expires`` (400 days).
    """

    class Meta:
        table_name = "scan_log"

    tenant_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    code_key = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    data = JSONAttribute()
    expires = TTLAttribute(null=True)
    code_index = ScanCodeIndex()

    @staticmethod
    def time_key(stamp: str, suffix: str = "") -> str:
        return f"{stamp}#{suffix}"

    @staticmethod
    def code_key_of(code_id: str, stamp: str = "", suffix: str = "") -> str:
        return f"{code_id}#{stamp}#{suffix}" if stamp else f"{code_id}#"
