"""Serve the public, high-volume routes (scans, media, click redirects, participant pages) through
an API Gateway **HTTP API** (payload format 2.0) with the same Chalice app.

Why: a REST API request costs $3.50 per million, an HTTP API request $1.00 — for scans that is
most of the bill (docs/cost.md, cost model). Chalice only deploys REST APIs and routes REST-shaped events,
so this adapter turns an HTTP API 2.0 event into the REST proxy event Chalice expects (route
template from ``routeKey``), runs the app — the same middleware, views and errors — and turns the
answer into a 2.0 response (cookies in ``cookies``, binary bodies base64-encoded).
"""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs


def to_rest_event(event: dict) -> dict:
    method, _, template = event.get("routeKey", "").partition(" ")
    ctx = event.get("requestContext") or {}
    http = ctx.get("http") or {}
    method = method if method and method != "$default" else http.get("method", "GET")
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if event.get("cookies"):
        headers["cookie"] = "; ".join(event["cookies"])
    headers.setdefault("accept", "*/*")
    query = event.get("queryStringParameters") or None
    multi_query = dict(parse_qs(event.get("rawQueryString") or "", keep_blank_values=True)) or None
    resource = template if template and template != "$default" else event.get("rawPath", "/")
    return {
        "resource": resource, "path": event.get("rawPath", http.get("path", "/")),
        "httpMethod": method, "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query, "multiValueQueryStringParameters": multi_query,
        "pathParameters": event.get("pathParameters"), "stageVariables": event.get("stageVariables"),
        "body": event.get("body"), "isBase64Encoded": bool(event.get("isBase64Encoded")),
        "requestContext": {
            "resourcePath": resource, "httpMethod": method, "path": http.get("path"),
            "requestId": ctx.get("requestId"), "stage": ctx.get("stage"),
            "domainName": ctx.get("domainName"), "apiId": ctx.get("apiId"),
            "identity": {"sourceIp": http.get("sourceIp"), "userAgent": http.get("userAgent")},
        },
    }


def to_v2_response(response: dict) -> dict:
    headers = dict(response.get("headers") or {})
    cookies = []
    for name, values in (response.get("multiValueHeaders") or {}).items():
        if name.lower() == "set-cookie":
            cookies.extend(values)
        else:
            headers[name] = ",".join(values)
    for name in [h for h in headers if h.lower() == "set-cookie"]:
        cookies.append(headers.pop(name))
    answer = {"statusCode": response["statusCode"], "headers": headers,
              "body": response.get("body") or "", "isBase64Encoded": bool(response.get("isBase64Encoded"))}
    if cookies:
        answer["cookies"] = cookies
    return answer


def handle(app: Any, event: dict, context: Any) -> dict:
    return to_v2_response(app(to_rest_event(event), context))
