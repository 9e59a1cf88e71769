"""Parsing campaign and messaging-settings bodies into clean values (raises ValidationFailed)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib import validate as v
from chalicelib.campaigns import rules, schedule
from chalicelib.errors import ValidationFailed

CAMPAIGN_FIELDS = {"name", "audience", "message", "channel", "webhook_url", "schedule", "timezone",
                   "caps", "quiet_hours"}
SETTINGS_FIELDS = {"caps", "channel_caps", "quiet_hours"}


def parse_campaign(body: dict, now: datetime, *, partial: bool) -> dict:
    """The given fields, cleaned. ``partial`` (PATCH) skips required-field checks."""
    v.only_keys(body, CAMPAIGN_FIELDS)
    values: dict[str, Any] = {}
    if "name" in body or not partial:
        values["name"] = v.text(body, "name", required=True, max_len=100)
    if "audience" in body or not partial:
        values["audience"] = rules.parse_audience(body.get("audience"))
    if "message" in body or not partial:
        values["message"] = rules.parse_message(v.object_(body, "message", required=True))
    if "channel" in body or not partial:
        values["channel"] = v.choice(body, "channel", rules.CHANNELS, default="outbox",
                                     required=partial)
    if "webhook_url" in body:
        values["webhook_url"] = v.webhook_url(body, "webhook_url")
    if "schedule" in body or not partial:
        values["schedule"] = schedule.parse(body.get("schedule"), now, _check_event_type)
    if "timezone" in body:
        values["timezone"] = v.timezone_name(body, "timezone")
        if values["timezone"] is None and partial:
            raise ValidationFailed("'timezone' cannot be null", field="timezone")
    if "caps" in body:
        values["caps"] = rules.parse_caps(body["caps"])
    if "quiet_hours" in body:
        values["quiet_hours"] = schedule.parse_quiet_hours(body["quiet_hours"])
    return values


def _check_event_type(value: Any) -> str:
    """The audience's rule for event type names (an ``after_event`` schedule names one)."""
    from chalicelib.audience.rules import check_event_type

    return check_event_type(value)


def stored_quiet(value: Any) -> Any:
    """QuietHours → dict, False stays False (none), None stays None (inherit)."""
    return value.as_dict() if isinstance(value, schedule.QuietHours) else value


def parse_settings(body: dict, current: dict) -> dict:
    """PATCH of the tenant's messaging defaults over ``current``."""
    v.only_keys(body, SETTINGS_FIELDS)
    merged = dict(current)
    if "caps" in body:
        caps = rules.parse_caps(body["caps"])
        merged["caps"] = {**rules.DEFAULT_CAPS, **(caps or {})}
    if "channel_caps" in body:
        raw = body["channel_caps"]
        if raw is not None and not isinstance(raw, dict):
            raise ValidationFailed("'channel_caps' must map a channel to {per_day?, per_week?}",
                                   field="channel_caps")
        clean = {}
        for channel, caps in (raw or {}).items():
            if channel not in rules.CHANNELS:
                raise ValidationFailed(f"unknown channel {channel!r} in channel_caps; one of: "
                                       f"{', '.join(rules.CHANNELS)}", field="channel_caps")
            clean[channel] = rules.parse_caps(caps, f"channel_caps.{channel}") or {}
        merged["channel_caps"] = clean
    if "quiet_hours" in body:
        quiet = schedule.parse_quiet_hours(body["quiet_hours"])
        merged["quiet_hours"] = stored_quiet(quiet) or None
    return merged
