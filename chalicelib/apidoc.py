"""The OpenAPI 3 document (``GET /openapi.json``), assembled from each domain's parts (the ``spec``
module its chalicelib/<pkg>/domain.py names), with what every operation shares: the
roles, CORS preflights, rate-limit answers and HTML error pages. The helpers the parts are written
with are :mod:`chalicelib.openapi`."""
from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

from chalicelib.domains import DOMAINS
from chalicelib.openapi import ERROR, json_content, op, path_param, ref
from chalicelib.web import PUBLIC_PREFIXES  # the rate-limited routes (web.guard_middleware)

PAGES = ("/s/{slug}", "/e/{slug}", "/p/{key}")
RATE_LIMITED = {
    "description": "Too many requests from this address or for this code; retry after the delay.",
    "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
PAGE_ERROR = {
    "description": "Error: an HTML page for people, the JSON error when the request's Accept ranks "
                   "application/json above text/html.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}},
                "text/html": {"schema": {"type": "string"}}}}


def _path_names(path: str) -> list[str]:
    import re

    return re.findall(r"{(\w+)}", path)


def _add_roles(paths: dict) -> None:
    """Each /v1 operation states the lowest role that may call it (chalicelib/members/policy.py)."""
    from chalicelib.members import policy

    for path, ops in paths.items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in ops.items():
            needed = policy.required_role(path, method)
            if needed is not None:
                operation["x-required-role"] = needed
                operation["responses"].setdefault("403", {
                    "description": "forbidden-role: the caller's role is below x-required-role",
                    "content": json_content(ref("Error"))})


@lru_cache(maxsize=1)
def document() -> dict:
    paths: dict[str, Any] = {"/openapi.json": {"get": op(
        "Get the OpenAPI document", "meta", auth=None, errors=(),
        response={"type": "object"})}}
    schemas: dict[str, Any] = {"Error": ERROR}
    for domain in DOMAINS:  # in order: wecom extends the live code target schemas
        if domain.spec is None:
            continue
        spec = importlib.import_module(domain.spec)
        for path, ops in spec.PATHS.items():
            paths.setdefault(path, {}).update(ops)
        schemas.update(spec.SCHEMAS)
    _add_roles(paths)
    for path, ops in paths.items():
        if path in PAGES:  # pages for people: errors in HTML unless JSON is preferred
            for operation in ops.values():
                for status in ("400", "404"):
                    if status in operation["responses"]:
                        operation["responses"][status] = PAGE_ERROR
        ops["options"] = {
            "summary": "CORS preflight", "tags": ["meta"], "security": [],
            "operationId": "preflight_" + "".join(c if c.isalnum() else "_" for c in path).strip("_"),
            "description": "Answered for origins listed in YUTANG_CORS_ORIGINS (else 403).",
            "parameters": [path_param(n) for n in _path_names(path)],
            "responses": {"204": {"description": "allowed"},
                          "403": {"description": "origin not allowed",
                                  "content": json_content(ref("Error"))}}}
        if path.startswith(PUBLIC_PREFIXES):  # web.guard_middleware: every method, preflight too
            for operation in ops.values():
                operation["responses"]["429"] = RATE_LIMITED
    return {
        "openapi": "3.1.0",
        "info": {"title": "Yutang (鱼塘) API", "version": "1.0.0",
                 "description": "Serverless private-domain traffic backend for the WeChat ecosystem. "
                                "Errors: {\"error\": {\"code\", \"message\"}}; lists: "
                                "{\"items\", \"next_cursor\"}; times are ISO 8601 with offset."},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas, "securitySchemes": {
            "apiKey": {"type": "http", "scheme": "bearer",
                       "description": "A tenant API key (yt_<tenant>_<key id>_<secret>) or a "
                                      "member's access token (yts1..., from POST /v1/sessions); "
                                      "either carries a role (x-required-role)"},
            "adminKey": {"type": "http", "scheme": "bearer", "description": "YUTANG_ADMIN_KEY"},
            "mpToken": {"type": "http", "scheme": "bearer",
                        "description": "A mini-program token from POST /mp/v1/login"}}},
    }
