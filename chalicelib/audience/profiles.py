"""A known customer's tags and stage for routing a scan, in one read.

A live code with audience rules asks this for a new visitor the scan knows (a mini-program token
or the signed identity cookie). It costs one DynamoDB call: a GetItem of the user item
(eventually consistent, the attributes tags and stage need: 0.5 read unit) when this container
holds the tenant's stage thresholds (cached 30 s), else one BatchGetItem of the user item and the
thresholds item. A user merged away after their token was issued costs one more read per hop.
"""
from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from chalicelib.audience import stages as stage_rules
from chalicelib.audience import store, thresholds
from chalicelib.audience.models import AudienceItem as Item
from chalicelib.audience.rules import USER_ID_LEN
from chalicelib.audience.views import user_stage, user_tags
from chalicelib.errors import NotFound
from chalicelib.ids import is_id

_ATTRIBUTES = ["user_id", "sk", "manual_tags", "channel_tags", "interests", "first_seen_at",
               "last_active_at", "last_paid_at", "merged_into", "thresholds"]


def routing_profile(tenant_id: str, user_id: str,
                    now: datetime | None = None) -> tuple[frozenset[str], str] | None:
    """(tags, stage) of the user, or None when there is no such user."""
    if not is_id(user_id, USER_ID_LEN):
        return None
    known = thresholds.cached(tenant_id)
    user = _read(tenant_id, user_id) if known is not None else None
    if known is None:
        user, known = _read_with_thresholds(tenant_id, user_id)
    if user is not None and user.merged_into:
        try:
            user = store.load(tenant_id, user.merged_into)
        except NotFound:
            return None
    if user is None:
        return None
    return frozenset(user_tags(user)), user_stage(user, known, now)


def _read(tenant_id: str, user_id: str) -> Item | None:
    try:
        return Item.get(tenant_id, Item.user_key(user_id), attributes_to_get=_ATTRIBUTES)
    except DoesNotExist:
        return None


def _read_with_thresholds(tenant_id: str,
                          user_id: str) -> tuple[Item | None, stage_rules.Thresholds]:
    user, stored = None, None
    keys = [(tenant_id, Item.user_key(user_id)), (tenant_id, Item.config_key())]
    for item in Item.batch_get(keys, attributes_to_get=_ATTRIBUTES):
        if item.sk == Item.config_key():
            stored = item.thresholds
        else:
            user = item
    return user, thresholds.remember(tenant_id, stored)
