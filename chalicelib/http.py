"""Request parsing and response shaping shared by every blueprint."""
from __future__ import annotations

import json
from typing import Any

from chalice import Response

from chalicelib.errors import PayloadTooLarge, ValidationFailed

MAX_JSON_BYTES = 8 * 1024 * 1024  # base64 images of 2 MB and a little more; API Gateway caps at 10 MB


def json_body(request: Any) -> dict:
    raw = request.raw_body or b""
    if len(raw) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"request body is larger than {MAX_JSON_BYTES} bytes")
    if not raw.strip():
        raise ValidationFailed("a JSON object body is required", code="invalid-json")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"the body is not valid JSON: {exc}", code="invalid-json") from None
    if not isinstance(body, dict):
        raise ValidationFailed("the body must be a JSON object", code="invalid-json")
    return body


def query(request: Any) -> dict[str, str]:
    return dict(request.query_params or {})


def json_response(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    all_headers = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}
    all_headers.update(headers or {})
    return Response(body=json.dumps(body, ensure_ascii=False, default=str), status_code=status,
                    headers=all_headers)


def created(body: Any) -> Response:
    return json_response(body, status=201)


def no_content() -> Response:
    return Response(body="", status_code=204, headers={"Cache-Control": "no-store"})


def header(request: Any, name: str) -> str:
    headers = request.headers or {}
    return headers.get(name) or headers.get(name.lower()) or ""
