"""Daily counters.

One item per (tenant, live code, local day): ``sk = LC#<code>#D#<yyyy-mm-dd>``, holding fixed
counters plus one pair per target (``ts_<target>`` scans, ``ta_<target>`` assignments) so a scan
event is counted with a single atomic UpdateItem (ADD creates missing attributes).

Access patterns:
- UpdateItem ADD per scan event (consumer).
- Query tenant_id, sk BETWEEN LC#<code>#D#<from> AND LC#<code>#D#<to>: stats for a range.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.db import BaseModel


class DailyStats(BaseModel):
    class Meta:
        table_name = "stats"

    tenant_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    scans = NumberAttribute(default=0)
    unique_visitors = NumberAttribute(default=0)
    new_visitors = NumberAttribute(default=0)

    @staticmethod
    def code_day_key(code_id: str, day: str) -> str:
        return f"LC#{code_id}#D#{day}"
