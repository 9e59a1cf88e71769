"""OpenAPI paths for live codes, their targets, QR images, stats and scans."""
from typing import Any

from chalicelib.livecodes import spec_rules
from chalicelib.openapi import list_of, op, path_param, query_param, ref

TAG = "livecodes"
_TIME = {"type": ["string", "null"], "format": "date-time"}
_TAGS: dict[str, Any] = {"type": "array", "maxItems": 20, "uniqueItems": True,
         "items": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[^,#]+$"},
         "description": "auto-tags (normalised like content and user tags: NFKC, trimmed, Latin "
                        "lower-cased) given, with source channel, to known mini-program users who "
                        "scan the code and to 企业微信 customers who add/join through it"}
_WELCOME = {"type": ["object", "null"], "additionalProperties": False, "properties": {
    "text": {"type": "string", "maxLength": 4000},
    "content_id": {"type": "string", "description": "a content item sent as an attachment: "
                   "article/link → link card; image/video/audio/file → link to the media; "
                   "miniprogram → link card to its url (none without one); text → the text"}},
    "description": "sent by 企业微信 send_welcome_msg when a customer adds staff through the code"}
SCHEMAS: dict[str, Any] = {
    "Window": {"type": "object", "additionalProperties": False, "properties": {
        "days": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 7}},
        "start": {"type": "string", "pattern": "^\\d\\d:\\d\\d$"},
        "end": {"type": "string", "pattern": "^\\d\\d:\\d\\d$", "description": "may be 24:00"}}},
    "TargetInput": {"type": "object", "additionalProperties": False, "properties": {
        "kind": {"enum": ["group", "staff", "url"]}, "name": {"type": "string", "maxLength": 100},
        "image": {"type": "string", "description": "base64 PNG/JPEG, ≤ 2 MB, ≤ 4096 px a side"},
        "image_url": {"type": "string", "format": "uri",
                      "description": "fetched once and stored (public addresses only)"},
        "url": {"type": "string", "format": "uri"},
        "capacity": {"type": ["integer", "null"], "minimum": 1,
                     "description": "visitors placed in all (null: unlimited)"},
        "daily_capacity": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000000,
                           "description": "visitors placed per day, the day starting at midnight "
                                          "in the code's timezone (null: unlimited)"},
        "backup": {"type": "boolean", "description": "a backup target: routed to only when no "
                   "other (primary) target has room, e.g. when every staff reached its daily cap"},
        "assigned": {"type": "integer", "minimum": 0,
                     "description": "sets the count (its counters start again from it)"},
        "expires_at": _TIME, "weight": {"type": "integer", "minimum": 0, "maximum": 1000},
        "enabled": {"type": "boolean"}, "store": spec_rules.STORE}},
    "Target": {"type": "object", "properties": {
        "id": {"type": "string"}, "kind": {"enum": ["group", "staff", "url"]},
        "name": {"type": "string"}, "image_url": {"type": ["string", "null"]},
        "url": {"type": ["string", "null"]}, "capacity": {"type": ["integer", "null"]},
        "daily_capacity": {"type": ["integer", "null"]}, "backup": {"type": "boolean"},
        "assigned": {"type": "integer", "description": "visitors placed (for targets without "
                     "capacity counted by the event consumer, so a few seconds behind)"},
        "assigned_today": {"type": "integer",
                           "description": "visitors placed today (targets with daily_capacity)"},
        "expires_at": _TIME, "weight": {"type": "integer"},
        "enabled": {"type": "boolean"},
        "status": {"enum": ["active", "full", "full_today", "expired", "disabled"],
                   "description": "full_today: at its daily_capacity until midnight"},
        "created_at": {"type": "string", "format": "date-time"}, "store": spec_rules.STORE}},
    "LiveCodeInput": {"type": "object", "additionalProperties": False, "properties": {
        "name": {"type": "string", "description": "internal: operators only, never shown to people"},
        "title": {"type": ["string", "null"], "maxLength": 60,
                  "description": "public: shown on the landing page (null or absent: a neutral "
                                 "text, never the internal name)"},
        "channel": {"type": "string"},
        "strategy": {"enum": ["fill", "round_robin", "weighted"]},
        "targets": {"type": "array", "items": {"$ref": "#/components/schemas/TargetInput"}},
        "fallback": {"oneOf": [{"$ref": "#/components/schemas/TargetInput"}, {"type": "null"}]},
        "windows": {"type": ["array", "null"], "items": {"$ref": "#/components/schemas/Window"}},
        "timezone": {"type": "string", "default": "Asia/Shanghai"}, "enabled": {"type": "boolean"},
        "warn_threshold": {"type": "integer", "minimum": 0},
        "logo": {"type": ["string", "null"], "description": "base64 PNG/JPEG centre logo"},
        "welcome": _WELCOME,
        "tags": {**_TAGS, "type": ["array", "null"], "description": "null or [] clears; "
                 + _TAGS["description"]}}},
    "TargetOrder": {"type": "object", "additionalProperties": False, "required": ["target_ids"],
                    "properties": {"target_ids": {"type": "array", "maxItems": 50, "uniqueItems": True,
                                                  "items": {"type": "string"}}}},
    "NewTarget": {"allOf": [{"$ref": "#/components/schemas/TargetInput"},
                            {"required": ["kind", "name"]}]},
    "NewLiveCode": {"allOf": [{"$ref": "#/components/schemas/LiveCodeInput"}, {
        "required": ["name", "channel"],
        "properties": {"targets": {"items": {"$ref": "#/components/schemas/NewTarget"}}}}]},
    "LiveCode": {"type": "object", "properties": {
        "id": {"type": "string"}, "slug": {"type": "string"}, "name": {"type": "string"},
        "title": {"type": ["string", "null"]},
        "channel": {"type": "string"}, "strategy": {"type": "string"}, "timezone": {"type": "string"},
        "enabled": {"type": "boolean"}, "windows": {"type": "array"},
        "warn_threshold": {"type": "integer"}, "has_logo": {"type": "boolean"},
        "welcome": _WELCOME, "tags": _TAGS,
        "scan_url": {"type": "string"}, "qr_url": {"type": "string"},
        "entry_url": {"type": "string", "description": "/e/{slug}: redirects to the current entry "
                      "domain; the QR image encodes it once the tenant lists entry domains"},
        "targets": {"type": "array", "items": {"$ref": "#/components/schemas/Target"}},
        "fallback": {"oneOf": [{"$ref": "#/components/schemas/Target"}, {"type": "null"}]},
        "remaining_capacity": {"type": ["integer", "null"]},
        "audience_rules": {"type": "array", "items": {"type": "object"}},
        "experiment": {"type": ["object", "null"], "description": "its figures: GET .../experiment"},
        "created_at": {"type": "string"}, "updated_at": {"type": "string"}}},
    "LiveCodeStats": {"type": "object", "properties": {
        "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
        "scans": {"type": "integer", "description": "people's scans (bots and previews apart)"},
        "bot_scans": {"type": "integer",
                      "description": "crawlers, link previews and health checks (docs/insight.md)"},
        "unique_visitors": {"type": "integer",
                            "description": "distinct devices whose first scan fell in the range"},
        "daily_unique_visitors": {"type": "integer", "description": "sum of the days' uniques"},
        "targets": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "scans": {"type": "integer"}, "assigned": {"type": "integer"},
            "bot_scans": {"type": "integer", "description": "bots answered with this target"}}}},
        "days": {"type": "array", "items": {"type": "object", "properties": {
            "date": {"type": "string"}, "scans": {"type": "integer"},
            "unique_visitors": {"type": "integer"}}}}}},
    "ScanAnswer": {"type": "object", "properties": {
        "target": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {
            "id": {"type": "string"}, "kind": {"type": "string"}, "name": {"type": "string"},
            "image_url": {"type": ["string", "null"]}, "url": {"type": ["string", "null"]}}}]},
        "reason": {"type": "string", "description": "assigned | returning | outside-hours | "
                                                     "no-target-available | disabled | busy"},
        "returning": {"type": "boolean"}}},
}
_ID = path_param("code_id", "live code id")
_TID = path_param("target_id")
PATHS = {
    "/v1/livecodes": {
        "post": op("Create a live code", TAG, body=ref("NewLiveCode"), ok=201,
                   response=ref("LiveCode"), errors=(400, 413)),
        "get": op("List live codes", TAG, response=list_of(ref("LiveCode")),
                  params=[query_param("limit", {"type": "integer"}), query_param("cursor"),
                          query_param("q", {"type": "string", "maxLength": 100},
                                      description="search: codes whose name or title contains "
                                                  "this text (case-insensitive); a page may hold "
                                                  "fewer than `limit` items while `next_cursor` "
                                                  "goes on")]),
    },
    "/v1/livecodes/{code_id}": {
        "get": op("Get a live code", TAG, params=[_ID], response=ref("LiveCode")),
        "patch": op("Update a live code", TAG, params=[_ID], body=ref("LiveCodeInput"),
                    response=ref("LiveCode")),
        "delete": op("Delete a live code", TAG, params=[_ID], ok=204),
    },
    "/v1/livecodes/{code_id}/targets": {"post": op(
        "Add a target", TAG, params=[_ID], body=ref("NewTarget"), ok=201, response=ref("Target"),
        errors=(400, 404, 409, 413))},
    "/v1/livecodes/{code_id}/targets/order": {"put": op(
        "Reorder the targets", TAG, params=[_ID], body=ref("TargetOrder"), response=ref("LiveCode"),
        errors=(400, 404, 409),
        description="`target_ids` must be exactly the code's current target ids, each once "
                    "(else 400 `target-order-mismatch`); `fill` routes in this order.")},
    "/v1/livecodes/{code_id}/targets/{target_id}": {
        "patch": op("Update a target", TAG, params=[_ID, _TID], body=ref("TargetInput"),
                    response=ref("Target"), errors=(400, 404, 409)),
        "delete": op("Delete a target", TAG, params=[_ID, _TID], ok=204, errors=(404, 409)),
    },
    "/v1/livecodes/{code_id}/qr": {"get": op(
        "Get the QR image", TAG, params=[
            _ID, query_param("format", {"enum": ["png", "svg"]}),
            query_param("size", {"type": "integer", "minimum": 128, "maximum": 2048}),
            query_param("fg", description="hex colour, default 000000"),
            query_param("bg", description="hex colour, default ffffff"),
            query_param("logo", {"enum": ["0", "1"]})],
        content={"image/png": {"schema": {"type": "string", "format": "binary"}},
                 "image/svg+xml": {"schema": {"type": "string"}}},
        description="Send `Accept: image/png` through API Gateway so the PNG is returned as binary.")},
    "/v1/livecodes/{code_id}/stats": {"get": op(
        "Get live code stats", TAG, params=[_ID, query_param("from"), query_param("to")],
        response=ref("LiveCodeStats"))},
    "/s/{slug}": {"get": op(
        "Scan a live code", TAG, auth=None,
        params=[path_param("slug"), query_param("ref"), *spec_rules.SCAN_PARAMS],
        content={"text/html": {"schema": {"type": "string"}},
                 "application/json": {"schema": ref("ScanAnswer")}},
        description="HTML landing page, 302 for url targets, JSON with Accept: application/json. "
                    "A store code's first HTML scan asks for the position (docs/livecodes.md)."),
        "post": spec_rules.SCAN_POST},
    "/m/{tenant}/{folder}/{name}": {"get": op(
        "Get a media object", "media", auth=None, errors=(404,),
        params=[path_param("tenant"), path_param("folder"), path_param("name")],
        content={"image/png": {"schema": {"type": "string", "format": "binary"}},
                 "image/jpeg": {"schema": {"type": "string", "format": "binary"}}})},
}
SCHEMAS.update(spec_rules.SCHEMAS)
PATHS.update(spec_rules.PATHS)
