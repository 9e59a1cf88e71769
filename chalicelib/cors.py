"""CORS for H5 pages and web consoles on the brand's own origins, configured at run time.

Chalice bakes a route's CORS settings in at import, and API Gateway's generated preflight answers
one static origin; operators need a list they can change (``YUTANG_CORS_ORIGINS``, comma-separated
origins, ``*`` for any). So every path gets an explicit OPTIONS route answered here, and the
middleware adds ``Access-Control-Allow-Origin`` to real answers for allowed origins. Marketer calls
authenticate with a Bearer header, not cookies, so credentials are never allowed cross-origin.
"""
from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.error_codes import CORS_ORIGIN_NOT_ALLOWED

ALLOWED_HEADERS = "Authorization, Content-Type, Accept"
MAX_AGE = "600"


def allowed_origin(origin: str) -> str | None:
    from chalicelib.settings import get_settings

    allowed = get_settings().cors_origins
    if not origin or not allowed:
        return None
    if "*" in allowed:
        return "*"
    return origin if origin in allowed else None


def preflight(request: Any, methods: list[str]) -> Response:
    from chalicelib.http import header, json_response

    origin = allowed_origin(header(request, "Origin"))
    if origin is None:
        return json_response({"error": {"code": CORS_ORIGIN_NOT_ALLOWED,
                                        "message": "this origin may not call the API from a browser "
                                                   "(YUTANG_CORS_ORIGINS)"}}, status=403)
    return Response(body="", status_code=204, headers={
        "Access-Control-Allow-Origin": origin, "Vary": "Origin",
        "Access-Control-Allow-Methods": ", ".join(sorted(set(methods) | {"OPTIONS"})),
        "Access-Control-Allow-Headers": ALLOWED_HEADERS, "Access-Control-Max-Age": MAX_AGE})


def decorate(request: Any, response: Response) -> Response:
    from chalicelib.http import header

    origin = allowed_origin(header(request, "Origin"))
    if origin is not None and "Access-Control-Allow-Origin" not in response.headers:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response


def add_preflight_routes(app: Any) -> None:
    """One OPTIONS route per path (registered at import; the origins are read per request)."""
    for path, methods in list(app.routes.items()):
        if "OPTIONS" in methods:
            continue
        names = sorted(methods)

        def view(*_args: Any, _methods: list[str] = names, **_kwargs: Any) -> Response:
            return preflight(app.current_request, _methods)

        view.__name__ = "preflight_" + "".join(c if c.isalnum() else "_" for c in path).strip("_")
        app.route(path, methods=["OPTIONS"], content_types=["*/*"])(view)  # a preflight has no body
