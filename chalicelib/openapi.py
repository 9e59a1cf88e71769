"""The OpenAPI 3 document, assembled from each domain's ``spec`` module."""
from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

SPEC_MODULES = ["chalicelib.auth.spec", "chalicelib.livecodes.spec",
                "chalicelib.wecom.spec",  # after livecodes: it extends the target schemas
                "chalicelib.content.spec", "chalicelib.audience.spec", "chalicelib.mp.spec",
                "chalicelib.posters.spec", "chalicelib.fission.spec", "chalicelib.campaigns.spec",
                "chalicelib.analytics.spec", "chalicelib.portability.spec", "chalicelib.hooks.spec",
                "chalicelib.members.spec", "chalicelib.journeys.spec"]

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                   "field": {"type": "string"},
                   "tenants": {"type": "array", "description": "tenant-required: the tenants to choose from",
                               "items": {"type": "object", "properties": {
                                   "id": {"type": "string"}, "name": {"type": "string"}}}}}}}}


PUBLIC_PREFIXES = ("/s/", "/m/", "/c/", "/p/", "/mp/v1/login", "/wecom/v1/callback/")  # rate-limited
PAGES = ("/s/{slug}", "/p/{key}")
RATE_LIMITED = {
    "description": "Too many requests from this address or for this code; retry after the delay.",
    "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
PAGE_ERROR = {
    "description": "Error: an HTML page for people, the JSON error when the request's Accept ranks "
                   "application/json above text/html.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}},
                "text/html": {"schema": {"type": "string"}}}}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def op(summary: str, tag: str, *, body: dict | None = None, params: list | None = None,
       ok: int = 200, response: dict | None = None, auth: str | None = "apiKey",
       errors: tuple[int, ...] = (400, 404), content: dict | None = None,
       description: str | None = None) -> dict:
    responses: dict[str, Any] = {}
    if content is not None:
        responses[str(ok)] = {"description": "OK", "content": content}
    elif response is None:
        responses[str(ok)] = {"description": "No content" if ok == 204 else "OK"}
    else:
        responses[str(ok)] = {"description": "OK", "content": json_content(response)}
    codes = set(errors) | ({401} if auth else set())
    for code in sorted(codes):
        responses[str(code)] = {"description": "Error", "content": json_content(ref("Error"))}
    result: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses,
                              "operationId": summary.lower().replace(" ", "_").replace("'", "")}
    if description:
        result["description"] = description
    if body is not None:
        result["requestBody"] = {"required": True, "content": json_content(body)}
    if params:
        result["parameters"] = params
    result["security"] = [{auth: []}] if auth else []
    return result


def path_param(name: str, description: str = "") -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"},
            "description": description}


def query_param(name: str, schema: dict | None = None, description: str = "") -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema or {"type": "string"},
            "description": description}


def list_of(schema: dict) -> dict:
    return {"type": "object", "required": ["items", "next_cursor"],
            "properties": {"items": {"type": "array", "items": schema},
                           "next_cursor": {"type": ["string", "null"]}}}


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
    for name in SPEC_MODULES:
        module = importlib.import_module(name)
        for path, ops in module.PATHS.items():
            paths.setdefault(path, {}).update(ops)
        schemas.update(module.SCHEMAS)
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
