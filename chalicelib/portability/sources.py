"""Export sources: per kind, the columns, the filter rules and a reader of rows from a resume point.

A reader yields ``(row, resume)``: ``resume`` is None inside a unit that cannot be split (a campaign
batch's recipients) and otherwise a small JSON value from which the reader continues after that
row. Every reader Queries the tenant's own partitions in key order (no Scan) and never holds more
than one Query page. Times are written in the job's timezone (the tenant's, at creation).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib import clock
from chalicelib import validate as v
from chalicelib.audience.rules import IDENTITY_KINDS
from chalicelib.errors import ValidationFailed

Row = dict[str, Any]
Reader = Callable[[str, dict, Any, ZoneInfo], Iterator[tuple[Row, Any]]]


def local(value: Any, tz: ZoneInfo) -> str | None:
    """A stored time (datetime or ISO string) as ISO 8601 in the timezone, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value.astimezone(tz).isoformat()


def _time_window(filt: dict) -> tuple[datetime | None, datetime | None]:
    start = v.timestamp(filt, "from")
    end = v.timestamp(filt, "to")
    if start and end and start > end:
        raise ValidationFailed("'from' must not be after 'to'", field="filter.from")
    return start, end


def _in_window(value: Any, window: tuple[datetime | None, datetime | None]) -> bool:
    start, end = window
    if start is None and end is None:
        return True
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
    if value is None:
        return False
    return (start is None or value >= start) and (end is None or value <= end)


def _id_list(filt: dict, key: str) -> list[str]:
    value = filt.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        value = [p for p in value.split(",") if p.strip()]
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ValidationFailed(f"'filter.{key}' must be a list of strings (or comma-separated)",
                               field=f"filter.{key}")
    return [x.strip() for x in value]


# ---- users --------------------------------------------------------------------------------------

USER_COLUMNS = ["id", *IDENTITY_KINDS, "tags", "stage", "first_seen_at", "last_active_at",
                "last_paid_at", "event_count", "created_at"]
USER_FILTER = {"tags", "tags_all", "tags_any", "tags_none", "not", "stage", "stages"}


def user_criteria(filt: dict) -> Any:
    from chalicelib.audience.criteria import Criteria

    return Criteria.build(_id_list(filt, "tags") + _id_list(filt, "tags_all"),
                          _id_list(filt, "tags_any"),
                          _id_list(filt, "tags_none") + _id_list(filt, "not"),
                          _id_list(filt, "stage") + _id_list(filt, "stages"))


def users(tenant_id: str, filt: dict, after: Any, tz: ZoneInfo) -> Iterator[tuple[Row, Any]]:
    """Every live user in id order: the ``U#`` listing when unfiltered, else the audience
    service's index-driven matching (tag postings, day buckets) with its re-check."""
    from chalicelib.audience import segments
    from chalicelib.audience.models import AudienceItem as Item
    from chalicelib.audience.thresholds import get_thresholds
    from chalicelib.audience.views import user_stage, user_tags

    criteria = user_criteria(filt)
    thresholds = get_thresholds(tenant_id)
    now = clock.now()
    if criteria == type(criteria)():
        cond = (Item.sk.between(Item.user_key(after) + "!", Item.user_key("~")) if after
                else Item.sk.startswith(Item.user_key("")))
        found: Iterator[Item] = (u for u in Item.query(tenant_id, cond) if not u.merged_into)
    else:
        found = segments.matching(tenant_id, criteria, after)
    for user in found:
        ids = user.identities.as_dict() if user.identities else {}
        row = {"id": user.user_id, **{k: ids.get(k) for k in IDENTITY_KINDS},
               "tags": list(user_tags(user)),
               "stage": user_stage(user, thresholds, now),
               "first_seen_at": local(user.first_seen_at, tz),
               "last_active_at": local(user.last_active_at, tz),
               "last_paid_at": local(user.last_paid_at, tz),
               "event_count": int(user.event_count or 0), "created_at": local(user.created_at, tz)}
        yield row, user.user_id


# ---- campaign deliveries -------------------------------------------------------------------------

DELIVERY_COLUMNS = ["campaign_id", "campaign_name", "run_id", "user_id", "status", "reason", "at",
                    "clicked_at", "detail"]
DELIVERY_FILTER = {"campaign_id", "run_id", "status", "from", "to"}


def deliveries(tenant_id: str, filt: dict, after: Any, tz: ZoneInfo) -> Iterator[tuple[Row, Any]]:
    """Delivery records of every campaign (or one), run by run, batch by batch; resumable after
    each batch. ``from``/``to`` select on the delivery time."""
    from chalicelib.campaigns import service
    from chalicelib.campaigns.models import Campaign, CampaignBatch

    window = _time_window(filt)
    status = filt.get("status")
    position = after or {}
    if filt.get("campaign_id"):
        campaigns: Iterable[Campaign] = [service.load(tenant_id, filt["campaign_id"])]
    else:
        start = position.get("c")
        cond = (Campaign.sk.between(Campaign.campaign_key(start), Campaign.campaign_key("~"))
                if start else Campaign.sk.startswith(Campaign.campaign_key("")))
        campaigns = Campaign.query(tenant_id, cond)
    for campaign in campaigns:
        prefix = CampaignBatch.batch_key(filt["run_id"]) if filt.get("run_id") else "B#"
        resume_sk = position.get("sk") if position.get("c") == campaign.campaign_id else None
        cond = (CampaignBatch.sk.between(resume_sk + "!", prefix + "~") if resume_sk
                else CampaignBatch.sk.startswith(prefix))
        batches = CampaignBatch.query(CampaignBatch.partition(tenant_id, campaign.campaign_id),
                                      cond)
        for batch in batches:
            run_id = batch.sk.split("#")[1]
            rows = batch.rows or {}
            picked = []
            for uid in batch.users or []:
                d = service.delivery_view(run_id, uid, rows.get(uid))
                if (status is None or d["status"] == status) and _in_window(d["at"], window):
                    picked.append(d)
            for i, d in enumerate(picked):
                last = i == len(picked) - 1
                yield ({"campaign_id": campaign.campaign_id, "campaign_name": campaign.name,
                        "run_id": run_id, "user_id": d["user_id"], "status": d["status"],
                        "reason": d["reason"], "at": local(d["at"], tz),
                        "clicked_at": local(d["clicked_at"], tz), "detail": d["detail"]},
                       {"c": campaign.campaign_id, "sk": batch.sk} if last else None)


# ---- fission participants -----------------------------------------------------------------------

PARTICIPANT_COLUMNS = ["task_id", "task_name", "participant_id", "nickname", "user_id", "openid",
                       "invites", "goal", "rewarded", "rewarded_at", "reward_code", "created_at"]
PARTICIPANT_FILTER = {"task_id", "rewarded", "from", "to"}


def participants(tenant_id: str, filt: dict, after: Any,
                 tz: ZoneInfo) -> Iterator[tuple[Row, Any]]:
    """Participants of every fission task (or one), task by task; ``from``/``to`` select on when
    they joined, ``rewarded`` (true/false) on whether they earned the reward."""
    from chalicelib.fission.models import FissionTask, Participant, task_pk

    window = _time_window(filt)
    rewarded = v.boolean(filt, "rewarded")
    position = after or {}
    if filt.get("task_id"):
        from chalicelib.fission.tasks import load_task

        tasks: Iterable[FissionTask] = [load_task(tenant_id, filt["task_id"])]
    else:
        start = position.get("t")
        tasks = FissionTask.query(tenant_id, FissionTask.task_id >= start if start else None)
    for task in tasks:
        resume = position.get("p") if position.get("t") == task.task_id else None
        cond = Participant.participant_id > resume if resume else None
        for p in Participant.query(task_pk(tenant_id, task.task_id), cond):
            if rewarded is not None and (p.rewarded_at is not None) != rewarded:
                continue
            if not _in_window(p.created_at, window):
                continue
            yield ({"task_id": task.task_id, "task_name": task.name,
                    "participant_id": p.participant_id, "nickname": p.nickname,
                    "user_id": p.user_id, "openid": p.openid, "invites": int(p.invites),
                    "goal": int(task.goal), "rewarded": p.rewarded_at is not None,
                    "rewarded_at": local(p.rewarded_at, tz), "reward_code": p.reward_code,
                    "created_at": local(p.created_at, tz)},
                   {"t": task.task_id, "p": p.participant_id})


# ---- content items --------------------------------------------------------------------------------

CONTENT_COLUMNS = ["id", "type", "title", "url", "tags", "views", "clicks", "favorites", "shares",
                   "created_at", "updated_at"]
CONTENT_FILTER = {"type", "tags", "from", "to"}


def contents(tenant_id: str, filt: dict, after: Any, tz: ZoneInfo) -> Iterator[tuple[Row, Any]]:
    """The tenant's content items in id (creation) order, with their lifetime counters;
    ``tags`` (all of them), ``type`` and ``from``/``to`` (creation time) select."""
    from chalicelib import tags as tagrules
    from chalicelib.content.models import ContentItem as Item

    window = _time_window(filt)
    wanted = tagrules.normalize_all(_id_list(filt, "tags"), "filter.tags")
    ctype = filt.get("type")
    cond = Item.sk > after if after else None
    for item in Item.query(Item.items_pk(tenant_id), cond):
        held = set(item.tags or [])
        if (ctype and item.ctype != ctype) or not all(t in held for t in wanted):
            continue
        if not _in_window(item.created_at, window):
            continue
        yield ({"id": item.sk, "type": item.ctype, "title": item.title, "url": item.url,
                "tags": list(item.tags or []), "views": int(item.views or 0),
                "clicks": int(item.clicks or 0), "favorites": int(item.favorites or 0),
                "shares": int(item.shares or 0), "created_at": local(item.created_at, tz),
                "updated_at": local(item.updated_at, tz)}, item.sk)


# ---- scans ----------------------------------------------------------------------------------------

SCAN_COLUMNS = ["at", "code_id", "channel", "target_id", "reason", "assigned", "visitor_id",
                "new_visitor", "wechat", "ref", "user_id", "bot", "bot_name"]
SCAN_FILTER = {"code_id", "from", "to", "bots"}


def scans(tenant_id: str, filt: dict, after: Any, tz: ZoneInfo) -> Iterator[tuple[Row, Any]]:
    """The scan log in time order: every scan of the range (``from``/``to``), of one live code
    (``code_id``: its index) or all; bots are included and marked unless ``bots`` is false."""
    from chalicelib.portability.models import ScanRecord

    start, end = _time_window(filt)
    with_bots = v.boolean(filt, "bots", default=True)
    lo = start.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if start else "0"
    hi = (end.strftime("%Y-%m-%dT%H:%M:%S.%fZ") + "#~") if end else "~"
    code = filt.get("code_id")
    if code:
        low = ScanRecord.code_key_of(code, lo, "") if start else ScanRecord.code_key_of(code)
        cond = ScanRecord.code_key.between(after + "!" if after else low, f"{code}#{hi}")
        found = ScanRecord.code_index.query(tenant_id, cond)
    else:
        cond = ScanRecord.sk.between(after + "!" if after else lo, hi)
        found = ScanRecord.query(tenant_id, cond)
    for item in found:
        data = item.data or {}
        resume = item.code_key if code else item.sk
        if data.get("bot") and not with_bots:
            continue
        yield {"at": local(item.at, tz), **{c: data.get(c) for c in SCAN_COLUMNS[1:]}}, resume


KINDS: dict[str, tuple[list[str], set[str], Reader]] = {
    "users": (USER_COLUMNS, USER_FILTER, users),
    "scans": (SCAN_COLUMNS, SCAN_FILTER, scans),
    "deliveries": (DELIVERY_COLUMNS, DELIVERY_FILTER, deliveries),
    "participants": (PARTICIPANT_COLUMNS, PARTICIPANT_FILTER, participants),
    "contents": (CONTENT_COLUMNS, CONTENT_FILTER, contents),
}


def check_filter(kind: str, filt: dict) -> dict:
    """Validate a filter when the export is requested (the worker runs the same rules again)."""
    _, allowed, _ = KINDS[kind]
    v.only_keys(filt, allowed, "filter")
    if kind == "users":
        user_criteria(filt)
    else:
        _time_window(filt)
    if kind == "deliveries" and filt.get("status") is not None:
        v.choice(filt, "status", ["sent", "failed", "skipped", "pending", "sending", "deferred"])
    if kind == "participants":
        v.boolean(filt, "rewarded")
    if kind == "scans":
        v.boolean(filt, "bots")
    for key in ("campaign_id", "run_id", "task_id", "type"):
        if key in filt:
            v.text(filt, key, max_len=64)
    return filt
