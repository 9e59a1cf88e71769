"""Helpers for writing a package's OpenAPI parts (its ``spec`` module): operations, parameters,
references, lists and the error schema. The document itself is assembled by
:mod:`chalicelib.apidoc` from every domain's parts."""
from __future__ import annotations

from typing import Any

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                   "field": {"type": "string"},
                   "tenants": {"type": "array", "description": "tenant-required: the tenants to choose from",
                               "items": {"type": "object", "properties": {
                                   "id": {"type": "string"}, "name": {"type": "string"}}}}}}}}


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
