"""Campaign rules (pure): audiences, messages, frequency caps and the reasons a recipient is skipped.

Frequency caps count messages per user, per channel, per calendar day and per ISO week (Monday to
Sunday) in the tenant's timezone. The effective cap of a campaign is, per bound: the campaign's own
value if it sets one, else the tenant's per-channel default, else the tenant's default. ``null``
means "no cap" for that bound.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from chalicelib.error_codes import INVALID_AUDIENCE, INVALID_CAPS, INVALID_MESSAGE
from chalicelib.errors import ValidationFailed

CHANNELS = ("outbox", "webhook", "wecom")
MAX_CAP = 1000
DEFAULT_CAPS = {"per_day": 2, "per_week": 6}
MAX_TEXT = 2000

# Final skip reasons (each is counted in stats and shown on the delivery).
SKIP_REASONS = ("capped_day", "capped_week", "unsubscribed", "no_identity_for_channel",
                "not_in_audience", "user_not_found", "campaign_paused", "campaign_deleted",
                "pool_exhausted", "coupons_exhausted")


class Caps(NamedTuple):
    per_day: int | None
    per_week: int | None

    def as_dict(self) -> dict:
        return {"per_day": self.per_day, "per_week": self.per_week}


def parse_caps(value: Any, field: str = "caps") -> dict | None:
    """``{per_day?, per_week?}`` with integers 1..1000 or null (no cap); absent keys inherit."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationFailed(f"'{field}' must be an object {{per_day?, per_week?}}", field=field)
    unknown = sorted(set(value) - {"per_day", "per_week"})
    if unknown:
        raise ValidationFailed(f"unknown field in {field}: {unknown[0]}", field=f"{field}.{unknown[0]}")
    clean = {}
    for key, raw in value.items():
        if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int)
                                or not 1 <= raw <= MAX_CAP):
            raise ValidationFailed(f"'{field}.{key}' must be an integer 1-{MAX_CAP} or null",
                                   code=INVALID_CAPS, field=f"{field}.{key}")
        clean[key] = raw
    return clean


def effective_caps(tenant_caps: dict | None, channel_caps: dict | None,
                   campaign_caps: dict | None) -> Caps:
    merged = dict(DEFAULT_CAPS)
    for layer in (tenant_caps, channel_caps, campaign_caps):
        merged.update(layer or {})
    return Caps(merged.get("per_day"), merged.get("per_week"))


def parse_audience(value: Any) -> dict:
    """``{tags_all?, tags_any?, tags_none?, stages?}`` normalised like the audience service does;
    an empty audience means every user."""
    from chalicelib.audience.criteria import Criteria

    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ValidationFailed("'audience' must be an object", field="audience")
    keys = ("tags_all", "tags_any", "tags_none", "stages")
    unknown = sorted(set(value) - set(keys))
    if unknown:
        raise ValidationFailed(f"unknown field in audience: {unknown[0]}", field=f"audience.{unknown[0]}")
    for key in keys:
        if value.get(key) is not None and not isinstance(value[key], list):
            raise ValidationFailed(f"'audience.{key}' must be an array of strings",
                                   field=f"audience.{key}")
    try:
        c = Criteria.build(*(value.get(k) or [] for k in keys))
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, code=exc.code, field=f"audience.{exc.field}") from None
    overlap = set(c.tags_none) & (set(c.tags_all) | set(c.tags_any))
    if overlap:
        raise ValidationFailed(f"tag {sorted(overlap)[0]!r} is both required and excluded",
                               code=INVALID_AUDIENCE, field="audience.tags_none")
    return {"tags_all": list(c.tags_all), "tags_any": list(c.tags_any),
            "tags_none": list(c.tags_none), "stages": list(c.stages)}


def matches(audience: dict, tags: list[str], stage: str) -> bool:
    from chalicelib.audience.criteria import Criteria

    return Criteria(*(tuple(audience.get(k) or ()) for k in
                      ("tags_all", "tags_any", "tags_none", "stages"))).matches(tags, stage)


def parse_message(value: Any) -> dict:
    """``{content_id?, text?, coupon?}`` (at least content or text; text ≤ 2000 characters), or a
    smart-push message ``{pick, pool, avoid_sent_within_days?, fallback_content_id?, text?,
    coupon?}`` (:mod:`chalicelib.campaigns.smartpush`)."""
    from chalicelib import validate as v
    from chalicelib.campaigns import smartpush

    if not isinstance(value, dict):
        raise ValidationFailed("'message' must be an object {content_id?, text?} or "
                               "{pick, pool, ...}", field="message")
    smart = "pick" in value
    if not smart:
        v.only_keys(value, {"content_id", "text", "coupon"}, "message")
    try:
        text = v.text(value, "text", max_len=MAX_TEXT)
        content_id = None if smart else v.text(value, "content_id", max_len=64)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, code=exc.code, field=f"message.{exc.field}") from None
    clean = smartpush.parse(value) if smart else {"content_id": content_id}
    if not smart and not text and not content_id:
        raise ValidationFailed("'message' needs 'text' or 'content_id'", code=INVALID_MESSAGE,
                               field="message")
    coupon = _coupon(value.get("coupon"))
    return {**clean, "text": text, **({"coupon": coupon} if coupon else {})}


def _coupon(value: Any) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"pool_id"} or not isinstance(
            value["pool_id"], str) or not 0 < len(value["pool_id"]) <= 64:
        raise ValidationFailed("'message.coupon' must be {pool_id}", code=INVALID_MESSAGE,
                               field="message.coupon")
    return {"pool_id": value["pool_id"]}


def skip_reason(contact: dict, day_attr: str, week_attr: str, caps: Caps) -> str:
    """Why a contact's conditional update failed (from its old attributes, plain values)."""
    if contact.get("unsub_at"):
        return "unsubscribed"
    if caps.per_day is not None and int(contact.get(day_attr, 0)) >= caps.per_day:
        return "capped_day"
    if caps.per_week is not None and int(contact.get(week_attr, 0)) >= caps.per_week:
        return "capped_week"
    return "raced"  # changed between check and retry: the caller simply tries again
