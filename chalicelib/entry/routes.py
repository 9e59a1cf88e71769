"""HTTP routes: the tenant's entry domains (marketer API) and the entry redirect (public)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.http import created, header, json_body, json_response, no_content, prefers_json, query
from chalicelib.lazy import lazy
from chalicelib.web import Routes, tenant_id

routes = Routes(__name__)
if TYPE_CHECKING:  # the edge, for readers and mypy; at run time it loads on first use
    from chalicelib.entry import service
else:
    service = lazy("chalicelib.entry.service")


@routes.route("/v1/entry-domains", methods=["GET"])
def list_entry_domains():
    return json_response(service.list_domains(tenant_id(routes.current_request)))


@routes.route("/v1/entry-domains", methods=["POST"])
def add_entry_domain():
    request = routes.current_request
    return created(service.add_domain(tenant_id(request), json_body(request)))


@routes.route("/v1/entry-domains/{domain}", methods=["PATCH"])
def update_entry_domain(domain):
    request = routes.current_request
    return json_response(service.update_domain(tenant_id(request), domain, json_body(request)))


@routes.route("/v1/entry-domains/{domain}", methods=["DELETE"])
def delete_entry_domain(domain):
    service.delete_domain(tenant_id(routes.current_request), domain)
    return no_content()


@routes.route("/e/{slug}", methods=["GET"])
def enter_livecode(slug):
    """302 to the landing page on the tenant's current landing domain; nothing else."""
    from chalicelib.entry import rules
    from chalicelib.livecodes.loading import parse_slug

    ref = query(routes.current_request).get("ref")
    if ref is not None and not rules.REF.match(ref):
        raise ValidationFailed("'ref' must be 1-64 letters, digits, '-' or '_'", field="ref")
    try:
        tenant, _ = parse_slug(slug)
    except NotFound:
        if prefers_json(header(routes.current_request, "Accept")):
            raise
        from chalicelib.livecodes import landing

        return Response(body=landing.render_not_found(), status_code=404,
                        headers={"Content-Type": "text/html; charset=utf-8",
                                 "Cache-Control": "no-store"})
    return Response(body="", status_code=302, headers={
        "Location": service.redirect_url(tenant, slug, ref), "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer"})
