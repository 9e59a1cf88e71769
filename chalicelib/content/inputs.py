"""Content input parsing: fields per type, media checked by content and size before storage."""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from chalicelib import tags as tagrules
from chalicelib import validate as v
from chalicelib.content.query import TYPES, check_type
from chalicelib.error_codes import INVALID_MEDIA, MEDIA_TOO_LARGE, TYPE_IMMUTABLE
from chalicelib.errors import PayloadTooLarge, ValidationFailed

MB = 1024 * 1024
# The JSON body is capped at 8 MB (chalicelib.http), so inline media stays below 6 MB decoded.
MEDIA_LIMITS = {"image": 2 * MB, "audio": 5 * MB, "video": 6 * MB, "file": 6 * MB, "thumbnail": 2 * MB}
MEDIA_TYPES = ("image", "video", "audio", "file")
FIELDS = {"type", "title", "body", "url", "media", "card", "tags"}
_APPID = re.compile(r"^wx[0-9a-f]{16}$")
_FILENAME = re.compile(r"^[^/\\\x00-\x1f]{1,120}$")


@dataclass(frozen=True)
class Media:
    data: bytes
    ext: str
    content_type: str
    filename: str | None = None


def _decode(value: Any, field: str, limit: int) -> bytes:
    if not isinstance(value, str) or not value:
        raise ValidationFailed(f"'{field}' must be base64-encoded data", field=field)
    if value.startswith("data:"):
        value = value.partition(",")[2]
    if len(value) > limit * 4 // 3 + 8:
        raise PayloadTooLarge(f"'{field}' is larger than {limit // MB} MB", code=MEDIA_TOO_LARGE,
                              field=field)
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(f"'{field}' is not valid base64", field=field) from None
    if not data:
        raise ValidationFailed(f"'{field}' is empty", field=field)
    if len(data) > limit:
        raise PayloadTooLarge(f"'{field}' is larger than {limit // MB} MB", code=MEDIA_TOO_LARGE,
                              field=field)
    return data


def sniff(kind: str, data: bytes, field: str) -> tuple[str, str]:
    """(extension, content type) when the bytes really are of the kind, else ValidationFailed."""
    if kind in ("image", "thumbnail"):
        from chalicelib import images

        info = images.validate(data, field)
        return info.ext, info.content_type
    if kind == "video" and data[4:8] == b"ftyp":
        return "mp4", "video/mp4"
    if kind == "audio" and (data[:3] == b"ID3" or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0)):
        return "mp3", "audio/mpeg"
    if kind == "file":
        return ("pdf", "application/pdf") if data[:5] == b"%PDF-" else ("bin",
                                                                          "application/octet-stream")
    expected = {"video": "an MP4 video", "audio": "an MP3 audio file"}[kind]
    raise ValidationFailed(f"'{field}' is not {expected}", code=INVALID_MEDIA, field=field)


def parse_media(kind: str, value: Any, field: str = "media") -> Media:
    if not isinstance(value, dict):
        raise ValidationFailed(f"'{field}' must be an object {{data, filename?}}", field=field)
    v.only_keys(value, {"data", "filename"}, field)
    data = _decode(value.get("data"), f"{field}.data", MEDIA_LIMITS[kind])
    ext, content_type = sniff(kind, data, f"{field}.data")
    filename = value.get("filename")
    if filename is not None and (not isinstance(filename, str) or not _FILENAME.match(filename)):
        raise ValidationFailed(f"'{field}.filename' must be 1-120 characters without slashes",
                               field=f"{field}.filename")
    return Media(data, ext, content_type, filename)


def parse_card(value: Any, title: str | None) -> tuple[dict, Media | None]:
    if not isinstance(value, dict):
        raise ValidationFailed("'card' must be an object {appid, path, title?, thumbnail?}",
                               field="card")
    v.only_keys(value, {"appid", "path", "title", "thumbnail"}, "card")
    appid = v.text(value, "appid", required=True, max_len=18)
    if not _APPID.match(appid):
        raise ValidationFailed("'card.appid' must look like wx followed by 16 hex digits",
                               field="card.appid")
    path = v.text(value, "path", required=True, max_len=256)
    if path.startswith("/") or any(c.isspace() for c in path):
        raise ValidationFailed("'card.path' is a page path such as pages/index/index?id=1 "
                               "(no leading slash, no spaces)", field="card.path")
    card = {"appid": appid, "path": path,
            "title": v.text(value, "title", max_len=100) or title}
    thumb = value.get("thumbnail")
    return card, (parse_media("thumbnail", {"data": thumb}, "card.thumbnail") if thumb else None)


@dataclass
class ContentInput:
    values: dict
    media: Media | None = None
    thumbnail: Media | None = None


def parse(body: dict, *, existing_type: str | None = None) -> ContentInput:
    """A create (``existing_type`` None) or a partial update of an item of ``existing_type``."""
    v.only_keys(body, FIELDS)
    creating = existing_type is None
    ctype: str | None
    if creating:
        ctype = check_type(body.get("type"))
    else:
        ctype = existing_type
        if "type" in body and body["type"] != existing_type:
            raise ValidationFailed("an item's type cannot change; create a new item",
                                   code=TYPE_IMMUTABLE, field="type")
    values: dict[str, Any] = {}
    if creating or "title" in body:
        values["title"] = v.text(body, "title", required=True, max_len=200)
    if "body" in body:
        values["body"] = v.text(body, "body", max_len=20000)
    if "url" in body:
        values["url"] = v.http_url(body, "url")
    if creating or "tags" in body:
        values["tags"] = tagrules.normalize_all(body.get("tags") or [])
    result = ContentInput(values)
    if body.get("media") is not None:
        if ctype not in MEDIA_TYPES:
            raise ValidationFailed(f"'{ctype}' items have no media", field="media")
        result.media = parse_media(ctype, body["media"])
    if body.get("card") is not None:
        if ctype != "miniprogram":
            raise ValidationFailed("only miniprogram items have a card", field="card")
        values["card"], result.thumbnail = parse_card(body["card"], values.get("title"))
    if ctype is not None and creating:
        _require(ctype, values, result)
    values["type"] = ctype
    return result


def _require(ctype: str, values: dict, parsed: ContentInput) -> None:
    if ctype == "text" and not values.get("body"):
        raise ValidationFailed("a text item needs 'body'", field="body")
    if ctype in ("article", "link") and not values.get("url"):
        raise ValidationFailed(f"an {ctype} item needs 'url'", field="url")
    if ctype in MEDIA_TYPES and parsed.media is None:
        raise ValidationFailed(f"an {ctype} item needs 'media' {{data: base64}}", field="media")
    if ctype == "miniprogram" and "card" not in values:
        raise ValidationFailed("a miniprogram item needs 'card' {appid, path}", field="card")


__all__ = ["TYPES", "ContentInput", "Media", "parse", "parse_media", "sniff"]
