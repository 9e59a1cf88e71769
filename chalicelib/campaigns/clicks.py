"""Tracked clicks: ``GET /c/{token}`` redirects to the link and counts the click (once per
recipient on the delivery row, every time in the stats) and tags the user."""
from __future__ import annotations

import logging
from dataclasses import replace

from pynamodb.exceptions import DoesNotExist

from chalicelib import clock
from chalicelib.campaigns import batches, bulk, links
from chalicelib.campaigns.models import Campaign, CampaignBatch
from chalicelib.error_codes import LINK_NOT_FOUND
from chalicelib.errors import NotFound
from chalicelib.secret_store import app_secret

log = logging.getLogger("yutang.campaigns")


def click(token: str) -> str:
    """The target of a tracked link; counts the click and tags the user (best effort: the visitor
    is redirected even if recording fails)."""
    parsed = links.parse(app_secret(), token)
    missing = NotFound("this link is not valid", code=LINK_NOT_FOUND)
    if parsed is None:
        raise missing
    try:
        run = Campaign.get(parsed.tenant_id, Campaign.run_key(parsed.campaign_id, parsed.run_id))
    except DoesNotExist:
        raise missing from None
    urls = (run.snapshot or {}).get("links") or []
    target = _picked_url(parsed) if parsed.link == links.PICKED else (
        urls[parsed.link] if parsed.link < len(urls) else None)
    if target is None:
        raise missing
    try:
        _record(parsed)
    except Exception:  # noqa: BLE001 - never strand the visitor on a storage hiccup
        log.exception("recording a click failed")
    return target


def _picked_url(c: links.Click) -> str | None:
    """The url of the smart-push item the recipient's delivery row names."""
    from chalicelib.content import service as content

    pk = CampaignBatch.partition(c.tenant_id, c.campaign_id)
    state = batches.State.load(pk, CampaignBatch.batch_key(c.run_id, c.batch), [])
    current = state.rows.get(c.user_id)
    content_id = (current.pick or {}).get("c") if current else None
    if not content_id:
        return None
    try:
        return content.get_item(c.tenant_id, content_id).get("url")
    except NotFound:
        return None


def _record(c: links.Click) -> None:
    pk = CampaignBatch.partition(c.tenant_id, c.campaign_id)
    first = c.user_id != links.NO_USER and _mark_row(c, pk)
    if not first:
        bulk.transact([_stats(pk, c, {"clicks": 1})])
        return
    from chalicelib.audience import activity as audience

    try:
        audience.record_event(c.tenant_id, c.user_id, "campaign_clicked",
                              properties={"campaign_id": c.campaign_id, "run_id": c.run_id},
                              channel_tags=[f"clicked:{c.campaign_id}"])
    except NotFound:
        pass


def _stats(pk: str, c: links.Click, counts: dict[str, int]) -> dict:
    """The stats shard increments of a click (its counts are non-zero: there is an update)."""
    update = batches.stat_update(pk, c.run_id, c.batch, counts)
    if update is None:
        raise ValueError("a click's stats update needs non-zero counts")
    return update


def _mark_row(c: links.Click, pk: str) -> bool:
    """Stamp the recipient's row with its first click (with both counters); False when it was
    clicked before (or has no row)."""
    now = clock.now()
    for _ in range(3):
        state = batches.State.load(pk, CampaignBatch.batch_key(c.run_id, c.batch), [])
        current = state.rows.get(c.user_id)
        if state.rev is None or current is None or current.clicked_at:
            return False
        rows = {c.user_id: replace(current, clicked_at=now.isoformat(timespec="seconds"))}
        items = [state.put(rows), _stats(pk, c, {"clicks": 1, "clicked": 1})]
        if bulk.transact(items):
            return True
    return False
