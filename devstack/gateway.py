"""Make Chalice's local server answer its own errors as the deployed API Gateway does.

Chalice's local server imitates API Gateway: an unknown route gets 403 {"message": "Missing
Authentication Token"} and an unknown HTTP method gets http.server's 501 page. infra/ configures
API Gateway's gateway responses to answer those in the contract's error shape (404 not-found, ...);
this applies the same mapping locally so `make dev` and the fuzz tests see what clients see on AWS.
"""
from __future__ import annotations

import json

from chalice import local

MISSING_ROUTE = (404, "not-found", "No route matches this method and path.")


def _body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


def _allowed(handler) -> str:  # type: ignore[no-untyped-def]
    """The methods the app routes for this request's path (OPTIONS always: CORS preflight)."""
    from urllib.parse import urlsplit

    app = handler.local_gateway._app_object
    try:
        route = local.RouteMatcher(list(app.routes)).match_route(urlsplit(handler.path).path).route
        methods = set(app.routes[route])
    except (ValueError, KeyError):
        methods = set()
    return ", ".join(sorted(methods | {"OPTIONS"}))


def install() -> None:
    handler = local.ChaliceRequestHandler
    if getattr(handler, "_yutang_gateway", False):
        return
    original_error = handler._send_error_response

    def send_error_response(self, error):  # type: ignore[no-untyped-def]
        body = error.body or b""
        if isinstance(error, local.ForbiddenError) and (
                b"Missing Authentication Token" in body or b"Authorization header requires" in body):
            # (the latter is what API Gateway says for a missing route when an Authorization
            # header is present; it even echoes the header, i.e. the API key)
            status, code, message = MISSING_ROUTE
            headers = {"Content-Type": "application/json"}
            self._send_http_response(status, headers, _body(code, message))
            return
        original_error(self, error)

    def send_error(self, code, message=None, explain=None):  # type: ignore[no-untyped-def]
        status, err = (405, "method-not-allowed") if code == 501 else (code, "bad-request")
        body = _body(err, message or "request refused")
        self.send_response(status, message)
        self.send_header("Content-Type", "application/json")
        if status == 405:  # RFC 9110: a 405 names the methods the resource supports
            self.send_header("Allow", _allowed(self))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    handler._send_error_response = send_error_response
    handler.send_error = send_error
    handler._yutang_gateway = True
