"""Content library routes (marketer API)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import validate as v
from chalicelib.http import created, json_body, json_response, no_content, query
from chalicelib.lazy import lazy
from chalicelib.web import Routes, tenant_id

routes = Routes(__name__)
if TYPE_CHECKING:  # the edges, for readers and mypy; at run time each loads on first use
    from chalicelib.content import query as content_query
    from chalicelib.content import service
else:
    service = lazy("chalicelib.content.service")
    content_query = lazy("chalicelib.content.query")


def list_page(tenant: str, params: dict) -> dict:
    """GET .../contents for marketers and mini-programs alike."""
    q = content_query.Query.from_params(params)
    limit = v.page_limit(params)
    return service.query(tenant, q, limit, params.get("cursor"))


@routes.route("/v1/contents", methods=["POST"])
def create_content():
    request = routes.current_request
    return created(service.create(tenant_id(request), json_body(request)))


@routes.route("/v1/contents", methods=["GET"])
def list_contents():
    request = routes.current_request
    return json_response(list_page(tenant_id(request), query(request)))


@routes.route("/v1/contents/{content_id}", methods=["GET"])
def get_content(content_id):
    return json_response(service.get_item(tenant_id(routes.current_request), content_id))


@routes.route("/v1/contents/{content_id}", methods=["PATCH"])
def update_content(content_id):
    request = routes.current_request
    return json_response(service.update(tenant_id(request), content_id, json_body(request)))


@routes.route("/v1/contents/{content_id}", methods=["DELETE"])
def delete_content(content_id):
    service.delete(tenant_id(routes.current_request), content_id)
    return no_content()
