"""Parse and validate live code and target request bodies into clean values (no I/O but image
decoding and, for ``image_url``, one guarded fetch)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from chalicelib import images
from chalicelib import tags as tagrules
from chalicelib import validate as v
from chalicelib.error_codes import TARGET_ORDER_MISMATCH
from chalicelib.errors import ValidationFailed
from chalicelib.livecodes import routing, rules_stores
from chalicelib.livecodes.models import MAX_TARGETS

WECOM_FIELDS = {"wecom_user_ids", "wecom_chat_ids", "skip_verify", "auto_create_room",
                "room_base_name", "room_base_id"}  # parsed by chalicelib.wecom.targets
TARGET_FIELDS = {"kind", "name", "image", "image_url", "url", "capacity", "expires_at", "weight",
                 "enabled", "assigned", "store", "daily_capacity", "backup"} | WECOM_FIELDS
CODE_FIELDS = {"name", "title", "channel", "strategy", "targets", "fallback", "windows", "timezone",
               "enabled", "warn_threshold", "logo", "welcome", "tags"}
MAX_CODE_TAGS = 20  # auto-tags given to the people who come through the code


class TargetInput(NamedTuple):
    values: dict[str, Any]
    image: images.ImageInfo | None = None
    wecom: dict | None = None  # 企业微信 way options (a staff/group target backed by 企业微信)


def parse_target(body: Any, *, partial: bool = False, where: str = "target",
                 now: datetime | None = None) -> TargetInput:
    if not isinstance(body, dict):
        raise ValidationFailed(f"{where} must be an object", field=where)
    v.only_keys(body, TARGET_FIELDS, where)
    req = not partial
    values: dict[str, Any] = {}
    kind = v.choice(body, "kind", routing.KINDS, required=req)
    if kind:
        values["kind"] = kind
    for key, func, kwargs in (
        ("name", v.text, {"max_len": 100, "required": req}),
        ("capacity", v.integer, {"lo": 1, "hi": 1_000_000}),
        ("daily_capacity", v.integer, {"lo": 1, "hi": 1_000_000}),
        ("backup", v.boolean, {}),
        ("weight", v.integer, {"lo": 0, "hi": 1000}),
        ("assigned", v.integer, {"lo": 0, "hi": 1_000_000}),
        ("enabled", v.boolean, {}),
        ("expires_at", v.timestamp, {}),
        ("url", v.http_url, {}),
    ):
        if key in body:
            values[key] = func(body, key, **kwargs)
    for key in ("capacity", "daily_capacity"):
        if body.get(key) is None and key in body:
            values[key] = None  # explicit null: unlimited
    if body.get("expires_at") is None and "expires_at" in body:
        values["expires_at"] = None
    if "store" in body:  # a store target (门店活码); null makes it an ordinary target again
        values["store"] = rules_stores.parse(body["store"], f"{where}.store")
    if "image" in body and body["image"] is not None and "image_url" in body:
        raise ValidationFailed(f"{where}: give either 'image' or 'image_url', not both", field="image")
    wecom = _parse_wecom(body, kind, partial)
    image = None
    if body.get("image") is not None:
        image = images.from_base64(body["image"], "image")
    elif body.get("image_url") is not None:
        image = _fetch_image(v.http_url(body, "image_url"))
    if not partial:
        _check_complete(values, image, wecom)
    return TargetInput(values, image, wecom)


def _parse_wecom(body: dict, kind: str, partial: bool) -> dict | None:
    if WECOM_FIELDS.isdisjoint(body):
        return None
    from chalicelib.wecom import targets as wecom_targets

    wecom = wecom_targets.parse(body)
    if not partial:
        has_image = body.get("image") is not None or body.get("image_url") is not None
        wecom_targets.check_kind(wecom, kind, creating=True, has_image=has_image)
    return wecom


def _check_complete(values: dict, image: images.ImageInfo | None, wecom: dict | None) -> None:
    kind = values["kind"]
    if kind == "url" and not values.get("url"):
        raise ValidationFailed("a url target needs 'url'", field="url")
    if kind in ("group", "staff") and image is None and not wecom:
        raise ValidationFailed(f"a {kind} target needs 'image' (base64 PNG/JPEG) or 'image_url'",
                               field="image")


def _fetch_image(url: str) -> images.ImageInfo:
    from chalicelib import fetch

    return images.validate(fetch.get_bytes(url, images.MAX_BYTES), "image_url")


def parse_windows(body: dict) -> list[dict] | None:
    raw = v.list_(body, "windows", max_items=20)
    if raw is None:
        return None
    clean = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ValidationFailed(f"windows[{i}] must be an object", field="windows")
        v.only_keys(item, {"days", "start", "end"}, f"windows[{i}]")
        try:
            routing.parse_window(item)
        except ValueError as exc:
            raise ValidationFailed(f"windows[{i}]: {exc}", field="windows") from None
        clean.append({"days": sorted(set(item.get("days", [1, 2, 3, 4, 5, 6, 7]))),
                      "start": item.get("start", "00:00"), "end": item.get("end", "24:00")})
    return clean


def parse_code(body: dict, *, partial: bool = False) -> tuple[dict, list[TargetInput], Any]:
    """Returns (values, targets, fallback) where fallback is a TargetInput, None, or ``...`` for
    "not given"."""
    v.only_keys(body, CODE_FIELDS)
    req = not partial
    values: dict[str, Any] = {}
    for key, func, kwargs in (
        ("name", v.text, {"max_len": 100, "required": req}),
        ("channel", v.text, {"max_len": 64, "required": req}),
        ("strategy", v.choice, {"options": routing.STRATEGIES}),
        ("timezone", v.timezone_name, {}),
        ("enabled", v.boolean, {}),
        ("warn_threshold", v.integer, {"lo": 0, "hi": 1_000_000}),
    ):
        if body.get(key) is not None or kwargs.get("required"):
            values[key] = func(body, key, **kwargs)
    if "title" in body:  # null clears it
        values["title"] = v.text(body, "title", max_len=60)
    if "windows" in body:
        values["windows"] = parse_windows(body)
    if body.get("logo") is not None:
        values["logo"] = images.from_base64(body["logo"], "logo")
    elif "logo" in body:
        values["logo"] = None
    if "welcome" in body:
        values["welcome"] = _parse_welcome(body)
    if "tags" in body:  # the content/audience tag rules; null or [] clears them
        values["tags"] = tagrules.normalize_all(body["tags"], "tags", MAX_CODE_TAGS)
    targets: list[TargetInput] = []
    if "targets" in body:
        if partial:
            raise ValidationFailed("targets are changed through /v1/livecodes/{id}/targets",
                                   field="targets")
        raw_targets = v.list_(body, "targets", max_items=MAX_TARGETS) or []
        targets = [parse_target(t, where=f"targets[{i}]") for i, t in enumerate(raw_targets)]
    elif req:
        targets = []
    fallback: Any = ...
    if "fallback" in body:
        fallback = None if body["fallback"] is None else parse_target(body["fallback"],
                                                                      where="fallback")
    return values, targets, fallback


def _parse_welcome(body: dict) -> dict | None:
    raw = v.object_(body, "welcome")
    if raw is None:
        return None
    v.only_keys(raw, {"text", "content_id"}, "welcome")
    return {k: val for k, val in (("text", v.text(raw, "text", max_len=4000)),
                                  ("content_id", v.text(raw, "content_id", max_len=64))) if val}


def parse_target_order(body: Any, current: list[str]) -> list[str]:
    """``{"target_ids": [...]}``: exactly the code's current target ids, each once, in the new order."""
    if not isinstance(body, dict):
        raise ValidationFailed("body must be an object", field="target_ids")
    v.only_keys(body, {"target_ids"})
    ids = v.list_(body, "target_ids", required=True, max_items=MAX_TARGETS)
    if not all(isinstance(i, str) for i in ids):
        raise ValidationFailed("'target_ids' must be an array of target ids", field="target_ids")
    if len(ids) != len(set(ids)) or set(ids) != set(current):
        missing = sorted(set(current) - set(ids))
        unknown = sorted(set(ids) - set(current))
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        detail = "; ".join(f"{label}: {', '.join(x)[:200]}" for label, x in
                           (("missing", missing), ("unknown", unknown), ("repeated", repeated)) if x)
        raise ValidationFailed("'target_ids' must list each of this live code's targets exactly "
                               f"once ({detail})", code=TARGET_ORDER_MISMATCH, field="target_ids")
    return ids


def parse_search(q: str | None) -> str | None:
    """The ``q`` of a list: a case-insensitive substring of the name or title (None: no filter)."""
    return (v.text({"q": q}, "q", max_len=100, min_len=0) or "").casefold() or None
