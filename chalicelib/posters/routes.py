"""HTTP routes for poster templates (marketer API)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from chalicelib import validate as v
from chalicelib.http import created, json_body, json_response, no_content, query
from chalicelib.lazy import lazy
from chalicelib.web import Routes, tenant_id

routes = Routes(__name__)
if TYPE_CHECKING:  # the edges, for readers and mypy; at run time each loads on first use
    from chalicelib.fission import tasks as fission_tasks
    from chalicelib.posters import service
else:
    service = lazy("chalicelib.posters.service")
    fission_tasks = lazy("chalicelib.fission.tasks")


@routes.route("/v1/poster-templates", methods=["POST"])
def create_poster_template():
    request = routes.current_request
    return created(service.create(tenant_id(request), json_body(request)))


@routes.route("/v1/poster-templates", methods=["GET"])
def list_poster_templates():
    params = query(routes.current_request)
    limit = v.page_limit(params)
    return json_response(service.list_templates(tenant_id(routes.current_request), limit,
                                                params.get("cursor")))


@routes.route("/v1/poster-templates/{template_id}", methods=["GET"])
def get_poster_template(template_id):
    return json_response(service.get(tenant_id(routes.current_request), template_id))


@routes.route("/v1/poster-templates/{template_id}", methods=["PATCH"])
def update_poster_template(template_id):
    request = routes.current_request
    return json_response(service.update(tenant_id(request), template_id, json_body(request)))


@routes.route("/v1/poster-templates/{template_id}", methods=["DELETE"])
def delete_poster_template(template_id):
    service.delete(tenant_id(routes.current_request), template_id,
                   users=fission_tasks.tasks_using_template)  # a template in use stays
    return no_content()


@routes.route("/v1/poster-templates/{template_id}/preview", methods=["GET"])
def preview_poster_template(template_id):
    data = service.preview(tenant_id(routes.current_request), template_id)
    return Response(body=data, status_code=200,
                    headers={"Content-Type": "image/jpeg", "Cache-Control": "no-store"})
