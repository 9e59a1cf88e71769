"""What a client sees of a user (pure): tags by source, the stage computed on read, the profile.

Works on any user item (a full one or a re-check projection); stage comes from
:mod:`chalicelib.audience.stages` and the tenant's thresholds, which the caller reads.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib import clock
from chalicelib.audience import stages as stage_rules

if TYPE_CHECKING:
    from chalicelib.audience.models import AudienceItem


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def user_tags(user: AudienceItem) -> dict[str, dict]:
    """Every tag the user holds, sorted: ``{tag: {"sources": [...], "weight": n}}``."""
    found: dict[str, dict] = {}
    for source, values in (("manual", user.manual_tags), ("channel", user.channel_tags)):
        for tag in values or ():
            found.setdefault(tag, {"sources": [], "weight": 0})["sources"].append(source)
    for tag, weight in (user.interests.as_dict() if user.interests else {}).items():
        entry = found.setdefault(tag, {"sources": [], "weight": 0})
        entry["sources"].append("interest")
        entry["weight"] = int(weight)
    return dict(sorted(found.items()))


def user_stage(user: AudienceItem, thresholds: stage_rules.Thresholds,
               now: datetime | None = None) -> str:
    today = stage_rules.day_of(now or clock.now())
    return stage_rules.stage(user.first_seen_at, user.last_active_at, user.last_paid_at, today,
                             thresholds)


def view(user: AudienceItem, thresholds: stage_rules.Thresholds,
         now: datetime | None = None) -> dict:
    tag_info = user_tags(user)
    return {
        "id": user.user_id, "identities": dict(user.identities.as_dict() if user.identities else {}),
        "other_identities": list(user.other_identities or []),
        "tags": list(tag_info), "tag_details": tag_info,
        "stage": user_stage(user, thresholds, now),
        "first_seen_at": iso(user.first_seen_at), "last_active_at": iso(user.last_active_at),
        "last_paid_at": iso(user.last_paid_at), "event_count": int(user.event_count or 0),
        "merged_from": sorted(user.merged_from or []), "created_at": iso(user.created_at),
    }
