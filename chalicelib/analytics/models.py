"""Daily counters (the ``stats`` table), kept by the insight aggregator (analytics.aggregate).

Items, all under the tenant's partition (``tenant_id``), told apart by the sort key ``sk``:

- ``LC#<code>#D#<yyyy-mm-dd>`` code-day (the code's timezone): fixed counters (people's ``scans``,
  ``unique_visitors``, ``new_visitors``, ``wechat_scans``, ``assigned``, ``ref_scans``,
  ``unavailable``, ``shown``, ``bot_scans``, ``wecom_adds/dels/group_joins/group_leaves``), hours
  ``h00``..``h23``, and per target ``ts_``/``ta_``/``bs_`` (scans / assignments / bot scans),
  ``tw_``/``tg_`` (企业微信 adds / group joins), ``cv<lag>`` and ``cv<lag>_<target>`` (customers
  added that day who converted ``lag`` whole days later);
- ``TD#<day>`` tenant-day (tenant's timezone): the overview's metrics and hours ``h00``..``h23``;
- ``CD#<day>#<channel>`` channel-day: ``scan``, ``shown``, ``added``, ``bot_scans``, ``cv<lag>``,
  ``codes`` (string set of the codes with activity);
- ``CT#<content>#D#<day>`` content-day: ``views``, ``clicks``, ``favorites``, ``shares``, ``u``
  (string set of user ids);
- ``RF#<day>#<campaign>#<run>``: ``failed`` sends, ``name`` (set with the campaign's name);
- ``AT#<user>``: a customer's first live code attribution (``code_id``, ``target_id``,
  ``channel``, ``added_at``, ``day``) and ``converted_at``;
- ``WP#<kind>``: 企业微信 problems (``count``, ``last_at``, ``message``).

Access patterns:
- UpdateItem ADD, one per key per SQS batch (the aggregator sums a batch first); UpdateItem
  if_not_exists per attributed add (``AT#``); conditional UpdateItem per first conversion; one
  BatchGetItem of ``AT#`` items per batch that has conversions; UpdateItem on a 企业微信 failure.
- Query tenant_id, sk BETWEEN <prefix><from> AND <prefix><to>: every read (one Query per answer):
  live code stats and funnel (``LC#``), overview and heatmap (``TD#``), channels (``CD#``),
  content stats (``CT#``), alerts (``RF#``, ``WP#``).
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

    @staticmethod
    def day_of_key(sk: str) -> str:
        """The day of a ``code_day_key``."""
        return sk.rsplit("#", 1)[1]
