"""HTTP routes for live codes (marketer API) and scans (public)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from chalice import Response

from chalicelib import validate as v
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.http import (
    client_ip,
    created,
    header,
    json_body,
    json_response,
    no_content,
    prefers_json,
    query,
)
from chalicelib.lazy import lazy
from chalicelib.livecodes import landing, store_scan
from chalicelib.settings import get_settings
from chalicelib.web import Routes, tenant_id

routes = Routes(__name__)
if TYPE_CHECKING:  # the edges, for readers and mypy; at run time each loads on first use
    from chalicelib.analytics import service as analytics
    from chalicelib.livecodes import service
else:
    service = lazy("chalicelib.livecodes.service")
    analytics = lazy("chalicelib.analytics.service")
_REF = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@routes.route("/v1/livecodes", methods=["POST"])
def create_livecode():
    return created(service.create(tenant_id(routes.current_request), json_body(routes.current_request)))


@routes.route("/v1/livecodes", methods=["GET"])
def list_livecodes():
    params = query(routes.current_request)
    return json_response(service.list_codes(tenant_id(routes.current_request), v.page_limit(params),
                                            params.get("cursor"), params.get("q")))


@routes.route("/v1/livecodes/{code_id}", methods=["GET"])
def get_livecode(code_id):
    return json_response(service.get(tenant_id(routes.current_request), code_id))


@routes.route("/v1/livecodes/{code_id}", methods=["PATCH"])
def update_livecode(code_id):
    request = routes.current_request
    return json_response(service.update(tenant_id(request), code_id, json_body(request)))


@routes.route("/v1/livecodes/{code_id}", methods=["DELETE"])
def delete_livecode(code_id):
    service.delete(tenant_id(routes.current_request), code_id)
    return no_content()


@routes.route("/v1/livecodes/{code_id}/targets", methods=["POST"])
def add_target(code_id):
    request = routes.current_request
    return created(service.add_target(tenant_id(request), code_id, json_body(request)))


@routes.route("/v1/livecodes/{code_id}/targets/order", methods=["PUT"])
def reorder_targets(code_id):
    request = routes.current_request
    return json_response(service.reorder_targets(tenant_id(request), code_id, json_body(request)))


@routes.route("/v1/livecodes/{code_id}/targets/{target_id}", methods=["PATCH"])
def update_target(code_id, target_id):
    request = routes.current_request
    return json_response(service.update_target(tenant_id(request), code_id, target_id,
                                               json_body(request)))


@routes.route("/v1/livecodes/{code_id}/targets/{target_id}", methods=["DELETE"])
def delete_target(code_id, target_id):
    service.delete_target(tenant_id(routes.current_request), code_id, target_id)
    return no_content()


@routes.route("/v1/livecodes/{code_id}/qr", methods=["GET"])
def get_livecode_qr(code_id):
    request = routes.current_request
    data, content_type = service.qr_image(tenant_id(request), code_id, query(request))
    body = data.decode() if content_type == "image/svg+xml" else data  # SVG is text, not binary
    return Response(body=body, status_code=200,
                    headers={"Content-Type": content_type, "Cache-Control": "private, max-age=3600"})


@routes.route("/v1/livecodes/{code_id}/stats", methods=["GET"])
def get_livecode_stats(code_id):
    request = routes.current_request
    code = service.load(tenant_id(request), code_id)
    params = query(request)
    ids = [t.id for t in code.targets or []] + ([code.fallback.id] if code.fallback else [])
    return json_response(analytics.livecode_stats(code.tenant_id, code.code_id, code.timezone, ids,
                                                  params.get("from"), params.get("to")))


@routes.route("/v1/livecodes/{code_id}/audience-rules", methods=["PUT"])
def set_livecode_audience_rules(code_id):
    return _code_rule("set_audience_rules", code_id)


@routes.route("/v1/livecodes/{code_id}/experiment", methods=["GET", "PUT", "DELETE"])
def livecode_experiment(code_id):
    """GET: the figures; PUT: start or replace; DELETE: end."""
    method = routes.current_request.method
    if method == "DELETE":
        service.end_experiment(tenant_id(routes.current_request), code_id)
        return no_content()
    return _code_rule("set_experiment" if method == "PUT" else "get_experiment", code_id)


@routes.route("/v1/livecodes/{code_id}/experiment/winner", methods=["POST"])
def confirm_livecode_winner(code_id):
    return _code_rule("confirm_winner", code_id)


def _code_rule(use_case: str, code_id: str) -> Response:
    request = routes.current_request
    args = () if request.method == "GET" else (json_body(request),)
    return json_response(getattr(service, use_case)(tenant_id(request), code_id, *args))


@routes.route("/s/{slug}", methods=["GET"])
def scan_livecode(slug):
    request = routes.current_request
    params = query(request)
    point = store_scan.point_from(params) if "lat" in params or "lng" in params else None
    ask = point is None and params.get("loc") != "skip" and not prefers_json(header(request, "Accept"))
    return _scan(slug, request, point, ask_location=ask)


@routes.route("/s/{slug}", methods=["POST"], content_types=store_scan.CONTENT_TYPES)
def locate_livecode_scan(slug):
    """A store code's landing posts the visitor's position (or that they declined) back here."""
    request = routes.current_request
    return _scan(slug, request, store_scan.point_from(store_scan.posted(request)), ask_location=False)


def _scan(slug: str, request: Any, point: Any, ask_location: bool) -> Response:
    wants_json = prefers_json(header(request, "Accept"))
    ref = query(request).get("ref")
    if ref is not None and not _REF.match(ref):
        raise ValidationFailed("'ref' must be 1-64 letters, digits, '-' or '_'", field="ref")
    who = store_scan.known_user(request, slug[:service.TENANT_ID_LEN])  # mp token or identity cookie
    visitor = service.Visitor(cookie_header=header(request, "Cookie"),
                              user_agent=header(request, "User-Agent")[:512], ref=ref,
                              user_id=who.user_id, ip=client_ip(request), point=point,
                              ask_location=ask_location)
    try:
        result = service.scan(slug, visitor)
    except NotFound:
        if wants_json:
            raise
        return _html(landing.render_not_found(), 404)
    return _scan_response(result, wants_json, who.set_cookie)


def _scan_response(result: service.ScanResult, wants_json: bool, who_cookie: str = "") -> Response:
    set_cookie = [c for c in (result.set_cookie, who_cookie) if c]  # bots get none
    cookie: dict[str, Any] = {"Set-Cookie": set_cookie if len(set_cookie) > 1 else set_cookie[0]} \
        if set_cookie else {}
    target = result.target
    if result.reason == "locate":
        nonce = store_scan.new_nonce()
        return _html(landing.render_locate(landing.public_title(result.code), nonce), 200, cookie,
                     nonce)
    if wants_json:
        body: dict[str, Any] = {"target": None, "reason": result.reason}
        if target is not None:
            tv = service.target_view(target)
            body = {"target": {k: tv[k] for k in ("id", "kind", "name", "image_url", "url")},
                    "reason": result.reason, "returning": result.returning}
        return json_response(body, headers=cookie)
    if target is None:
        return _html(landing.render_unavailable(landing.public_title(result.code), result.reason), 200,
                     cookie)
    if target.kind == "url":
        return Response(body="", status_code=302,
                        headers={"Location": target.url, "Cache-Control": "no-store", **cookie})
    tv = service.target_view(target)
    return _html(landing.render_target(landing.public_title(result.code), target.kind, target.name,
                                       tv["image_url"]), 200, cookie)


def _html(body: str, status: int, extra: dict | None = None, nonce: str | None = None) -> Response:
    csp = (f"default-src 'none'; img-src 'self' {get_settings().public_url}; "
           "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    if nonce:  # the store locate page: its one inline script, and its form posting back here
        csp = csp.replace("form-action 'none'", f"form-action 'self'; script-src 'nonce-{nonce}'")
    headers = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
               "Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "no-referrer", **(extra or {})}
    return Response(body=body, status_code=status, headers=headers)
