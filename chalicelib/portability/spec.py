"""OpenAPI paths for exports and imports."""
from chalicelib.openapi import list_of, op, path_param, query_param, ref
from chalicelib.portability import sources

TAG = "portability"
_TIME = {"type": ["string", "null"], "format": "date-time"}
_FORMAT = {"enum": ["csv", "jsonl"], "default": "csv",
           "description": "csv: UTF-8 with a BOM (Excel), lists comma-joined; jsonl: one JSON "
                          "object per line"}
_FILTERS = {kind: sorted(allowed) for kind, (_, allowed, _) in sources.KINDS.items()}
_ROW_ERROR = {"type": "object", "properties": {
    "line": {"type": "integer", "description": "1-based line where the record starts"},
    "field": {"type": ["string", "null"], "description": "the column"},
    "code": {"type": "string", "example": "invalid-identity"}, "message": {"type": "string"}}}
SCHEMAS = {
    "ExportInput": {"type": "object", "additionalProperties": False, "required": ["kind"],
                    "properties": {
                        "kind": {"enum": list(sources.KINDS)}, "format": _FORMAT,
                        "filter": {"type": "object", "description": "Per kind: " + "; ".join(
                            f"{k}: {', '.join(v)}" for k, v in _FILTERS.items())
                            + ". Lists may be JSON arrays or comma-separated; from/to are ISO 8601 "
                              "times with offset."}}},
    "Export": {"type": "object", "properties": {
        "id": {"type": "string"}, "kind": {"enum": list(sources.KINDS)},
        "format": {"enum": ["csv", "jsonl"]},
        "status": {"enum": ["queued", "running", "done", "failed"]},
        "filter": {"type": "object"}, "timezone": {"type": "string",
                                                   "description": "times in the file use it"},
        "rows": {"type": "integer"},
        "url": {"type": ["string", "null"], "description": "presigned S3 GET, when done"},
        "expires_in": {"type": "integer", "description": "seconds the url stays valid"},
        "error": {"type": "string"}, "created_at": _TIME, "started_at": _TIME,
        "finished_at": _TIME}},
    "ImportInput": {"type": "object", "additionalProperties": False, "required": ["kind"],
                    "properties": {
                        "kind": {"enum": ["users", "events"]}, "format": _FORMAT,
                        "content": {"type": "string", "maxLength": 5 * 1024 * 1024,
                                    "description": "the file's text inline (≤ 5 MB); without it "
                                                   "the answer holds an upload_url to PUT it to"}}},
    "Import": {"type": "object", "properties": {
        "id": {"type": "string"}, "kind": {"enum": ["users", "events"]},
        "format": {"enum": ["csv", "jsonl"]},
        "status": {"enum": ["created", "queued", "running", "done", "failed"],
                   "description": "created: waiting for the upload and POST …/start"},
        "rows_total": {"type": ["integer", "null"], "description": "known when done"},
        "rows_done": {"type": "integer"}, "rows_ok": {"type": "integer"},
        "rows_failed": {"type": "integer"},
        "errors": {"type": "array", "items": _ROW_ERROR, "maxItems": 100},
        "bytes_total": {"type": ["integer", "null"]}, "bytes_done": {"type": "integer"},
        "error": {"type": "string", "description": "why the whole file failed"},
        "created_at": _TIME, "started_at": _TIME, "finished_at": _TIME}},
    "ImportCreated": {"allOf": [ref("Import"), {"type": "object", "properties": {
        "upload_url": {"type": ["string", "null"], "description": "presigned S3 PUT"},
        "upload_method": {"type": ["string", "null"], "enum": ["PUT", None]},
        "upload_headers": {"type": "object", "additionalProperties": {"type": "string"},
                           "description": "send these headers with the PUT"},
        "upload_expires_in": {"type": "integer"}}}]},
}
_PAGE = [query_param("cursor"), query_param("limit", {"type": "integer"})]
PATHS = {
    "/v1/exports": {
        "post": op("Request an export", TAG, body=ref("ExportInput"), ok=202,
                   response=ref("Export"), errors=(400,),
                   description="Queued for the worker; poll GET /v1/exports/{export_id}."),
        "get": op("List exports", TAG, params=_PAGE, response=list_of(ref("Export")),
                  errors=(400,)),
    },
    "/v1/exports/{export_id}": {"get": op(
        "Get an export", TAG, params=[path_param("export_id", "export id")],
        response=ref("Export"))},
    "/v1/imports": {
        "post": op("Create an import", TAG, body=ref("ImportInput"), ok=201,
                   response=ref("ImportCreated"), errors=(400, 413),
                   description="users columns: openid, unionid, external_userid, brand_user_id "
                               "(≥ 1), tags, first_seen_at, last_active_at, last_paid_at. events "
                               "columns: user_id or one identity, type, at, properties (JSON). "
                               "Re-importing a file changes nothing."),
        "get": op("List imports", TAG, params=_PAGE, response=list_of(ref("Import")),
                  errors=(400,)),
    },
    "/v1/imports/{import_id}": {"get": op(
        "Get an import", TAG, params=[path_param("import_id", "import id")],
        response=ref("Import"))},
    "/v1/imports/{import_id}/start": {"post": op(
        "Start an uploaded import", TAG, params=[path_param("import_id", "import id")], ok=202,
        response=ref("Import"), errors=(404, 409, 413),
        description="409 import-not-uploaded until the file was PUT to upload_url; starting a "
                    "started import answers its status.")},
}
