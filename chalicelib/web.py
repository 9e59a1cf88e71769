"""HTTP plumbing shared by every blueprint: error mapping and the auth middleware.

Chalice turns exceptions raised in a view into its own 500 response before middleware sees them, so
:class:`Routes` (a Blueprint) wraps each view to map :class:`DomainError` to the contract's error
shape, and the middleware rewrites Chalice's own error bodies (405, 415, 500) into the same shape.
"""
from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response

from chalicelib.error_codes import (
    BAD_REQUEST,
    FORBIDDEN_ROLE,
    INTERNAL_ERROR,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    RATE_LIMITED,
    UNKNOWN_PARAMETER,
    UNSUPPORTED_MEDIA_TYPE,
)
from chalicelib.errors import DomainError, ValidationFailed
from chalicelib.http import bearer, json_response, source_ip

log = logging.getLogger("yutang")

_CHALICE_CODES = {
    "MethodNotAllowedError": METHOD_NOT_ALLOWED,
    "UnsupportedMediaType": UNSUPPORTED_MEDIA_TYPE,
    "BadRequest": BAD_REQUEST,
    "BadRequestError": BAD_REQUEST,
    "NotFoundError": NOT_FOUND,
    "InternalServerError": INTERNAL_ERROR,
}


JSON_LIKE = ["application/json", "application/x-www-form-urlencoded", "text/plain"]


class Routes(Blueprint):
    """A Blueprint whose views may raise DomainError and get the contract's error response."""

    def route(self, path: str, **kwargs: Any) -> Callable:
        # Bodies are always parsed as JSON; accepting curl's default form type keeps `curl -d` easy.
        kwargs.setdefault("content_types", JSON_LIKE)
        register = super().route(path, **kwargs)

        def decorator(view: Callable) -> Callable:
            @functools.wraps(view)
            def wrapped(*args: Any, **kw: Any) -> Any:
                try:
                    check_query(path, self.current_request)
                    return view(*args, **kw)
                except DomainError as exc:
                    return json_response(exc.to_body(), status=exc.status)
            return register(wrapped)
        return decorator


API_PREFIXES = ("/v1/", "/admin/", "/mp/v1/")  # pages for people and 企业微信 callbacks: any query


def check_query(path: str, request: Any) -> None:
    """An API route answers 400 ``unknown-parameter`` to a query parameter its OpenAPI operation
    does not document (listing those it does), so a typo is never silently ignored. Pages opened
    by people (/s/, /p/...) accept any: WeChat appends its own (``from=timeline``...)."""
    params = request.query_params
    if not params or not path.startswith(API_PREFIXES):
        return
    allowed = documented_query(path, request.method)
    unknown = sorted(set(params) - allowed)
    if unknown:
        listed = ", ".join(sorted(allowed)) or "none"
        raise ValidationFailed(f"unknown query parameter(s): {', '.join(unknown)[:200]} "
                               f"(this route takes: {listed})", code=UNKNOWN_PARAMETER,
                               field=unknown[0][:64])


_openapi_document: Callable[[], dict] | None = None


def use_openapi(document: Callable[[], dict]) -> None:
    """app.py hands the query check the OpenAPI document (:func:`chalicelib.apidoc.document`): this
    module cannot import it, the document being built from the packages whose routes import this
    module."""
    global _openapi_document
    _openapi_document = document
    documented_query.cache_clear()


@functools.lru_cache(maxsize=512)
def documented_query(path: str, method: str) -> frozenset[str]:
    if _openapi_document is None:
        raise RuntimeError("web.use_openapi() was not called (app.py does)")
    operation = _openapi_document()["paths"].get(path, {}).get(method.lower(), {})
    return frozenset(p["name"] for p in operation.get("parameters", []) if p.get("in") == "query")


def tenant_id(request: Any) -> str:
    return request.context["yutang_tenant_id"]


def key_id(request: Any) -> str:
    return request.context.get("yutang_key_id", "")


def role(request: Any) -> str:
    """The caller's role (member or API key), set by the auth middleware."""
    return request.context.get("yutang_role", "")


def actor(request: Any) -> dict:
    """Who is calling: ``{kind: member|api_key, id, role, email?|label?}``."""
    return request.context.get("yutang_actor") or {}


def auth_middleware(event: Any, get_response: Callable) -> Response:
    from chalicelib.auth import service as auth

    path = event.path or ""
    if event.method == "OPTIONS":
        return _reshape_chalice_error(get_response(event))  # CORS preflight: no credentials
    try:
        if path.startswith("/v1/"):
            _authorize(event, path)
        elif path.startswith("/admin/"):
            auth.check_admin(bearer(event))
        elif path.startswith("/mp/v1/") and path != "/mp/v1/login":
            from chalicelib.mp import tokens

            tenant, user = tokens.verify(bearer(event))
            event.context["yutang_tenant_id"] = tenant
            event.context["yutang_mp_user_id"] = user
    except DomainError as exc:
        return json_response(exc.to_body(), status=exc.status,
                             headers={"WWW-Authenticate": "Bearer"} if exc.status == 401 else None)
    return _reshape_chalice_error(get_response(event))


def _authorize(event: Any, path: str) -> None:
    """Who is calling (a member's access token or an API key, told apart by prefix), and may
    they call this route: the role table in chalicelib/members/policy.py decides."""
    from chalicelib.members import policy

    needed = policy.required_role(path, event.method)
    if needed is None:
        return  # public: login, refresh, invite acceptance
    token = bearer(event)
    if token.startswith("yts1."):
        from chalicelib.members import sessions

        member = sessions.authenticate(token)
        tenant, caller_role = member.tenant_id, member.role
        who = {"kind": "member", "id": member.member_id, "email": member.email,
               "name": member.name, "session_id": member.session_id}
    else:
        from chalicelib.auth import service as auth

        key = auth.authenticate_key(token)
        tenant, caller_role = key.tenant_id, key.role
        who = {"kind": "api_key", "id": key.key_id, "label": key.label}
        event.context["yutang_key_id"] = key.key_id
    event.context["yutang_tenant_id"] = tenant
    event.context["yutang_role"] = caller_role
    event.context["yutang_actor"] = {**who, "role": caller_role}
    if not policy.allows(caller_role, needed):
        from chalicelib.errors import Forbidden

        raise Forbidden(f"{event.method} {path} needs the {needed} role or above; this "
                        f"{'member' if who['kind'] == 'member' else 'API key'} has the "
                        f"{caller_role} role", code=FORBIDDEN_ROLE)


def audit_middleware(event: Any, get_response: Callable) -> Response:
    """Innermost: one audit log entry per change (chalicelib/members/audit.py)."""
    response = get_response(event)
    if event.method in ("GET", "HEAD", "OPTIONS") and not (event.context or {}).get("yutang_audit"):
        return response
    try:
        from chalicelib.members import audit

        audit.record(event, response)
    except Exception:  # noqa: BLE001 - the change is done; a lost entry is logged loudly
        log.exception("audit log write failed", extra={"fields": {"route": event.path}})
    return response


def _reshape_chalice_error(response: Response) -> Response:
    body = response.body
    if response.status_code < 400 or not isinstance(body, (dict, str, bytes)):
        return response
    if isinstance(body, (str, bytes)):
        try:
            body = json.loads(body)
        except ValueError:
            return response
    if isinstance(body, dict) and "Code" in body and "error" not in body:
        code = _CHALICE_CODES.get(body["Code"], "error")
        message = body.get("Message", "") if response.status_code < 500 else "internal error"
        headers = {k: v for k, v in response.headers.items() if k.lower() == "allow"}
        return json_response({"error": {"code": code, "message": message}},
                             status=response.status_code, headers=headers)
    return response


def observe_middleware(event: Any, get_response: Callable) -> Response:
    """Outermost: one structured log line per request (route template, status, latency, tenant,
    request id) — never the query string, body or headers, which may carry personal data."""
    from chalicelib import observability
    from chalicelib.settings import get_settings

    observability.configure(get_settings().log_level)
    observability.clear()
    request_id = (event.context or {}).get("requestId")
    observability.bind(request_id=request_id)
    started = time.perf_counter()
    from chalicelib import cors

    response = cors.decorate(event, get_response(event))
    fields = {"method": event.method, "route": event.path, "status": response.status_code,
              "ms": round((time.perf_counter() - started) * 1000, 1),
              "tenant": (event.context or {}).get("yutang_tenant_id")}
    level = logging.ERROR if response.status_code >= 500 else logging.INFO
    log.log(level, "request", extra={"fields": fields})
    if request_id and "X-Request-Id" not in response.headers:
        response.headers["X-Request-Id"] = request_id
    return response


CALLBACK_PREFIX = "/wecom/v1/callback/"
PUBLIC_PREFIXES = ("/s/", "/e/", "/m/", "/c/", "/p/", "/mp/v1/login", CALLBACK_PREFIX)
CALLBACK_FAILURES_PER_MINUTE = 10  # refused callbacks per (tenant, IP) before it is throttled
_guard: list = []
_callback_failures: list = []


def guard_middleware(event: Any, get_response: Callable) -> Response:
    """Per-IP and per-code rate limits on public endpoints (see chalicelib.ratelimit). The
    企业微信 callback route is also limited per tenant, and a (tenant, IP) whose callbacks keep
    failing verification is refused before any read or unseal (a signed callback never fails)."""
    path = event.path or ""
    if not path.startswith(PUBLIC_PREFIXES):
        return get_response(event)
    ip = source_ip(event)
    wait = _public_guard().check(ip, _public_key(event))
    strikes = f"{(event.uri_params or {}).get('tenant_id')}|{ip}" if path.startswith(CALLBACK_PREFIX) \
        else None
    if wait is None and strikes:
        wait = _failures().wait(strikes) or None
    if wait is not None:
        return _rate_limited(wait)
    response = get_response(event)
    if strikes and 400 <= response.status_code < 500:
        _failures().allow(strikes)  # spends one of the (tenant, IP)'s failures
    return response


def _rate_limited(wait: float) -> Response:
    seconds = max(1, int(wait + 0.999))
    return json_response({"error": {"code": RATE_LIMITED,
                                    "message": f"too many requests; retry in {seconds} s"}},
                         status=429, headers={"Retry-After": str(seconds)})


def _failures() -> Any:
    if not _callback_failures:
        from chalicelib.ratelimit import Buckets

        n = CALLBACK_FAILURES_PER_MINUTE
        _callback_failures.append(Buckets(n / 60, n))
    return _callback_failures[0]


def _public_guard() -> Any:
    if not _guard:
        from chalicelib.ratelimit import PublicGuard
        from chalicelib.settings import get_settings

        cfg = get_settings()
        _guard.append(PublicGuard(cfg.rate_ip_per_minute, cfg.rate_key_per_second))
    return _guard[0]


def reset_guard() -> None:
    _guard.clear()
    _callback_failures.clear()


def _public_key(event: Any) -> str | None:
    params = event.uri_params or {}
    value = params.get("slug") or params.get("ref") or params.get("token") or params.get("tenant") \
        or params.get("tenant_id")
    return f"{event.path}:{value}" if value else None
