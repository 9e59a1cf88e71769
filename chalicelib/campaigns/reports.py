"""What campaigns did: runs, stats, deliveries (the batch rows) and the outbox, read for the API."""
from __future__ import annotations

from datetime import datetime

from chalicelib.campaigns import batches
from chalicelib.campaigns.models import Campaign, CampaignBatch
from chalicelib.campaigns.planning import load
from chalicelib.campaigns.smartpush import Choice
from chalicelib.campaigns.wire import Row
from chalicelib.channels.models import OutboxItem
from chalicelib.error_codes import RUN_NOT_FOUND
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.ids import is_outbox_source_id
from chalicelib.secret_store import app_secret

TOTALS = ("audience_size", "queued", "sent", "failed", "skipped_total", "deferred", "clicked",
          "clicks", "pending")


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def cursor(tenant_id: str, scope: str, position: dict | None) -> str | None:
    from chalicelib import pagination as cursors

    return cursors.encode(app_secret(), tenant_id, scope, position) if position else None


def from_cursor(tenant_id: str, scope: str, value: str | None) -> dict | None:
    from chalicelib import pagination as cursors

    return cursors.decode(app_secret(), tenant_id, scope, value)


# ---- runs and stats -----------------------------------------------------------------------------

def _runs(tenant_id: str, campaign_id: str) -> list[Campaign]:
    return list(Campaign.query(tenant_id, Campaign.sk.startswith(Campaign.run_key(campaign_id))))


def run_view(run: Campaign, counts: dict) -> dict:
    skipped_total = sum(counts["skipped"].values())
    queued = int(run.queued or 0)
    done = counts["sent"] + counts["failed"] + skipped_total
    return {"id": run.run_id, "trigger": run.trigger, "created_at": iso(run.created_at),
            "status": run_status(run, queued, done), "audience_size": int(run.audience_size or 0),
            "queued": queued, "sent": counts["sent"], "failed": counts["failed"],
            "skipped": {k: n for k, n in counts["skipped"].items() if n},
            "skipped_total": skipped_total, "deferred": counts["deferred"],
            "clicked": counts["clicked"], "clicks": counts["clicks"],
            "pending": max(0, queued - done), "deferred_until": iso(run.deferred_until)}


def run_status(run: Campaign, queued: int, done: int) -> str:
    if run.trigger == "event":
        return "live"
    if run.deferred_until and not run.pages:
        return "deferred"
    if not run.dispatched:
        return "dispatching"
    return "done" if done >= queued else "sending"


def list_runs(tenant_id: str, campaign_id: str) -> dict:
    load(tenant_id, campaign_id)
    runs = sorted(_runs(tenant_id, campaign_id), key=lambda r: r.created_at, reverse=True)
    counts = batches.stat_totals(tenant_id, campaign_id, None)
    return {"items": [run_view(r, counts.get(r.run_id, batches.empty_counts())) for r in runs],
            "next_cursor": None}


def stats(tenant_id: str, campaign_id: str, run_id: str | None = None) -> dict:
    load(tenant_id, campaign_id)
    runs = _runs(tenant_id, campaign_id)
    if run_id is not None:
        runs = [r for r in runs if r.run_id == run_id]
        if not runs:
            raise NotFound(f"no such run: {run_id[:40]}", code=RUN_NOT_FOUND, field="run_id")
    counts = batches.stat_totals(tenant_id, campaign_id, run_id)
    views = [run_view(r, counts.get(r.run_id, batches.empty_counts())) for r in runs]
    total: dict = {"campaign_id": campaign_id, "run_id": run_id, "runs": len(views)}
    for name in TOTALS:
        total[name] = sum(v[name] for v in views)
    skipped: dict[str, int] = {}
    for v in views:
        for reason, n in v["skipped"].items():
            skipped[reason] = skipped.get(reason, 0) + n
    total["skipped"] = skipped
    return total


# ---- deliveries and the outbox ------------------------------------------------------------------

def delivery_view(run_id: str, user_id: str, stored: dict | None) -> dict:
    """A recipient's delivery (``GET …/deliveries``, exports) from its stored row."""
    if not stored:
        return {"run_id": run_id, "user_id": user_id, "status": "pending", "reason": None,
                "at": None, "clicked_at": None, "detail": None, "pick": None, "coupon": None}
    row = Row.from_record(stored)
    return {"run_id": run_id, "user_id": user_id, "status": row.status.view, "reason": row.reason,
            "at": row.at, "clicked_at": row.clicked_at, "detail": row.detail,
            "pick": Choice.from_record(row.pick).view() if row.pick else None,
            "coupon": row.coupon}


def deliveries(tenant_id: str, campaign_id: str, limit: int, cursor_value: str | None,
               run_id: str | None = None, status: str | None = None) -> dict:
    load(tenant_id, campaign_id)
    scope = f"deliveries|{campaign_id}|{run_id}|{status}"
    position = from_cursor(tenant_id, scope, cursor_value) or {}
    prefix = CampaignBatch.batch_prefix(run_id)
    start_sk, start_index = position.get("sk"), int(position.get("i", 0))
    cond = (CampaignBatch.sk.between(start_sk, CampaignBatch.prefix_end(prefix)) if start_sk
            else CampaignBatch.sk.startswith(prefix))
    items: list[dict] = []
    for batch in CampaignBatch.query(CampaignBatch.partition(tenant_id, campaign_id), cond):
        rows = batch.rows or {}
        rid = CampaignBatch.run_of(batch.sk)
        users = batch.users or []
        first = start_index if batch.sk == start_sk else 0
        for index in range(first, len(users)):
            if len(items) == limit:
                return {"items": items, "next_cursor": cursor(tenant_id, scope,
                                                              {"sk": batch.sk, "i": index})}
            item = delivery_view(rid, users[index], rows.get(users[index]))
            if status is None or item["status"] == status:
                items.append(item)
    return {"items": items, "next_cursor": None}


def outbox(tenant_id: str, limit: int, cursor_value: str | None, campaign_id: str | None,
           run_id: str | None) -> dict:
    if campaign_id is not None and not is_outbox_source_id(campaign_id):
        raise ValidationFailed("'campaign_id' is not a campaign (or fission task) id",
                               field="campaign_id")
    if run_id is not None and campaign_id is None:
        raise ValidationFailed("'run_id' needs 'campaign_id'", field="run_id")
    scope = f"outbox|{campaign_id}|{run_id}"
    position = from_cursor(tenant_id, scope, cursor_value)
    start = position and OutboxItem.key_dict(tenant_id, position["sk"])
    cond = None
    if campaign_id:
        cond = OutboxItem.sk.startswith(OutboxItem.key(campaign_id, run_id or "", "")
                                        if run_id else OutboxItem.key(campaign_id))
    result = OutboxItem.query(tenant_id, cond, last_evaluated_key=start, limit=limit)
    items = [{"campaign_id": o.campaign_id, "run_id": o.run_id, "user_id": o.user_id,
              "text": o.text, "content": o.content, "source": o.source or "campaign",
              "created_at": iso(o.created_at)}
             for o in result]
    last = result.last_evaluated_key
    return {"items": items, "next_cursor": cursor(tenant_id, scope, {"sk": last["sk"]["S"]})
            if last else None}
