"""Request parsing and response shaping shared by every blueprint."""
from __future__ import annotations

import json
import re
from typing import Any

from chalice import Response

from chalicelib.error_codes import INVALID_JSON
from chalicelib.errors import PayloadTooLarge, ValidationFailed

MAX_JSON_BYTES = 8 * 1024 * 1024  # base64 images of 2 MB and a little more; API Gateway caps at 10 MB
MAX_JSON_DEPTH = 64  # no contract body nests beyond ~6; deeper is an attack on the parser
_SURROGATE = re.compile("[\ud800-\udfff]")  # after json.loads, pairs are joined: any left is lone


def json_body(request: Any) -> dict:
    """The request body as a JSON object, parsed once at the edge for every route."""
    raw = request.raw_body or b""
    if len(raw) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"request body is larger than {MAX_JSON_BYTES} bytes")
    if not raw.strip():
        raise ValidationFailed("a JSON object body is required", code=INVALID_JSON)
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise ValidationFailed("the body must be a JSON object", code=INVALID_JSON)
    return body


def parse_json(raw: bytes | str) -> Any:
    """Strict JSON for untrusted input: refuses nesting deeper than :data:`MAX_JSON_DEPTH` and
    lone UTF-16 surrogates (``"\\ud800"``), which no store or encoder downstream accepts."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"the body is not valid JSON: {exc}", code=INVALID_JSON) from None
    _check_tree(value)
    return value


def _too_deep() -> ValidationFailed:
    return ValidationFailed(f"the body nests deeper than {MAX_JSON_DEPTH} levels",
                            code=INVALID_JSON)


def _check_tree(value: Any) -> None:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                raise ValidationFailed("the body contains a lone UTF-16 surrogate (\\ud800-\\udfff)",
                                       code=INVALID_JSON)
            continue
        if not isinstance(node, (dict, list)):
            continue
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        if isinstance(node, dict):
            stack.extend((k, depth) for k in node)
            stack.extend((v, depth + 1) for v in node.values())
        else:
            stack.extend((v, depth + 1) for v in node)


def query(request: Any) -> dict[str, str]:
    return dict(request.query_params or {})


def json_response(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    all_headers: dict[str, str | list[str]] = {"Content-Type": "application/json; charset=utf-8",
                                               "Cache-Control": "no-store"}
    all_headers.update(headers or {})
    return Response(body=json.dumps(body, ensure_ascii=False, default=str), status_code=status,
                    headers=all_headers)


def created(body: Any) -> Response:
    return json_response(body, status=201)


def no_content() -> Response:
    return Response(body="", status_code=204, headers={"Cache-Control": "no-store"})


def prefers_json(accept: str) -> bool:
    """Content negotiation for pages people open (/s/, /p/): JSON when the client ranks
    ``application/json`` above ``text/html`` (q-values, RFC 9110); HTML for browsers and ``*/*``."""
    json_q = html_q = 0.0
    for part in (accept or "").split(",")[:32]:
        media, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        media = media.strip().lower()
        if media in ("application/json", "application/*"):
            json_q = max(json_q, q if media == "application/json" else q * 0.99)
        elif media in ("text/html", "text/*"):
            html_q = max(html_q, q if media == "text/html" else q * 0.99)
    return json_q > html_q


def header(request: Any, name: str) -> str:
    headers = request.headers or {}
    return headers.get(name) or headers.get(name.lower()) or ""


def bearer(request: Any) -> str:
    value = header(request, "Authorization")
    return value[7:].strip() if value[:7].lower() == "bearer " else ""


def client_ip(request: Any) -> str:
    """The caller's address for login throttling and the audit log. Behind a CDN that forwards the
    viewer's address in a header it sets itself (``YUTANG_CLIENT_IP_HEADER``, e.g. CloudFront's
    ``CloudFront-Viewer-Address``: "ip:port"), that header; else the gateway's source IP."""
    from chalicelib.settings import get_settings

    name = get_settings().client_ip_header
    if name:
        viewer = viewer_address(header(request, name))
        if viewer:
            return viewer
    return source_ip(request)


def viewer_address(value: str) -> str | None:
    """The address in a CDN's viewer-address header, or None when it holds none. CloudFront's
    ``CloudFront-Viewer-Address`` is always "address:source-port", IPv6 without brackets:
    "198.51.100.10:46532", "2001:db8::1:46532"; a bracketed "[2001:db8::1]:46532" and a bare
    IPv4 address are taken too. Anything that is not an address (a forged or mangled value) is
    None, so the caller falls back to the gateway's source IP."""
    import ipaddress

    value = value.strip()
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        ok = bracket == "]" and (rest == "" or (rest[:1] == ":" and rest[1:].isdigit()))
    elif ":" in value:
        host, _, port = value.rpartition(":")  # the port is the last colon-separated group
        ok = port.isdigit()
    else:
        host, ok = value, True
    try:
        return str(ipaddress.ip_address(host)) if ok else None
    except ValueError:
        return None


def source_ip(event: Any) -> str:
    """The address API Gateway saw the request come from (``-`` when it says none)."""
    identity = (event.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "-")
