"""OpenAPI paths for the content library."""
from chalicelib.content.query import TYPES
from chalicelib.openapi import list_of, op, path_param, query_param, ref

TAG = "contents"
_TAGS = {"type": "array", "maxItems": 50, "items": {"type": "string", "maxLength": 64},
         "description": "trimmed, NFKC, case-folded; no ',' or '#'"}
_MEDIA_IN = {"type": "object", "additionalProperties": False, "required": ["data"], "properties": {
    "data": {"type": "string", "description": "base64; image PNG/JPEG ≤ 2 MB, audio MP3 ≤ 5 MB, "
                                              "video MP4 ≤ 6 MB, file ≤ 6 MB (checked by content)"},
    "filename": {"type": "string", "maxLength": 120}}}
SCHEMAS = {
    "ContentInput": {"type": "object", "additionalProperties": False, "properties": {
        "type": {"enum": list(TYPES), "description": "required on create; cannot change"},
        "title": {"type": "string", "maxLength": 200},
        "body": {"type": "string", "maxLength": 20000, "description": "required for text"},
        "url": {"type": "string", "format": "uri", "description": "required for article and link"},
        "media": _MEDIA_IN,
        "card": {"type": "object", "additionalProperties": False, "required": ["appid", "path"],
                 "description": "required for miniprogram", "properties": {
                     "appid": {"type": "string", "pattern": "^wx[0-9a-f]{16}$"},
                     "path": {"type": "string", "maxLength": 256},
                     "title": {"type": "string", "maxLength": 100},
                     "thumbnail": {"type": "string", "description": "base64 PNG/JPEG ≤ 2 MB"}}},
        "tags": _TAGS}},
    "Content": {"type": "object", "properties": {
        "id": {"type": "string"}, "type": {"enum": list(TYPES)}, "title": {"type": "string"},
        "body": {"type": ["string", "null"]}, "url": {"type": ["string", "null"]},
        "media": {"type": ["object", "null"], "properties": {
            "url": {"type": "string", "description": "presigned S3 URL"},
            "url_expires_in": {"type": "integer"}, "content_type": {"type": "string"},
            "size": {"type": "integer"}, "filename": {"type": ["string", "null"]}}},
        "card": {"type": ["object", "null"], "properties": {
            "appid": {"type": "string"}, "path": {"type": "string"}, "title": {"type": "string"},
            "thumbnail_url": {"type": ["string", "null"]}}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "counters": {"type": "object", "properties": {
            "views": {"type": "integer"}, "clicks": {"type": "integer"},
            "favorites": {"type": "integer"}, "shares": {"type": "integer"}}},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"}}},
}
QUERY = [query_param("tags", description="comma-separated tags"),
         query_param("match", {"enum": ["all", "any"]}, "all tags (default) or any of them"),
         query_param("not", description="comma-separated tags the items must not have"),
         query_param("type", {"enum": list(TYPES)}),
         query_param("cursor", description="opaque; from next_cursor of the same query"),
         query_param("limit", {"type": "integer", "minimum": 1, "maximum": 100})]
_ID = path_param("content_id", "content item id")
PATHS = {
    "/v1/contents": {
        "post": op("Create a content item", TAG, body=ref("ContentInput"), ok=201,
                   response=ref("Content"), errors=(400, 413)),
        "get": op("List content by tags", TAG, params=QUERY, response=list_of(ref("Content")),
                  errors=(400,), description="Newest first; served from tag posting lists."),
    },
    "/v1/contents/{content_id}": {
        "get": op("Get a content item", TAG, params=[_ID], response=ref("Content")),
        "patch": op("Update a content item", TAG, params=[_ID], body=ref("ContentInput"),
                    response=ref("Content"), errors=(400, 404, 409, 413)),
        "delete": op("Delete a content item", TAG, params=[_ID], ok=204, errors=(404,)),
    },
}
