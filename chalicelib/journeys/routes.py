"""HTTP routes for journeys (marketer API): CRUD, status changes, stats and a person's journeys.
The service is bound lazily (chalicelib.lazy), so ``import app`` stays light."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import validate as v
from chalicelib.http import created, json_body, json_response, no_content, query
from chalicelib.lazy import lazy
from chalicelib.web import Routes, tenant_id

routes = Routes(__name__)
if TYPE_CHECKING:  # the edges, for readers and mypy; at run time each loads on first use
    from chalicelib.journeys import service, stats
else:
    service = lazy("chalicelib.journeys.service")
    stats = lazy("chalicelib.journeys.stats")


@routes.route("/v1/journeys", methods=["POST"])
def create_journey():
    return created(service.create(tenant_id(routes.current_request),
                                  json_body(routes.current_request)))


@routes.route("/v1/journeys", methods=["GET"])
def list_journeys():
    params = query(routes.current_request)
    return json_response(service.list_journeys(tenant_id(routes.current_request),
                                               v.page_limit(params), params.get("cursor")))


@routes.route("/v1/journeys/{journey_id}", methods=["GET"])
def get_journey(journey_id):
    return json_response(service.get(tenant_id(routes.current_request), journey_id))


@routes.route("/v1/journeys/{journey_id}", methods=["PATCH"])
def update_journey(journey_id):
    request = routes.current_request
    return json_response(service.update(tenant_id(request), journey_id, json_body(request)))


@routes.route("/v1/journeys/{journey_id}", methods=["DELETE"])
def delete_journey(journey_id):
    service.delete(tenant_id(routes.current_request), journey_id)
    return no_content()


@routes.route("/v1/journeys/{journey_id}/pause", methods=["POST"])
def pause_journey(journey_id):
    return json_response(service.set_status(tenant_id(routes.current_request), journey_id,
                                            "paused"))


@routes.route("/v1/journeys/{journey_id}/resume", methods=["POST"])
def resume_journey(journey_id):
    return json_response(service.set_status(tenant_id(routes.current_request), journey_id,
                                            "active"))


@routes.route("/v1/journeys/{journey_id}/archive", methods=["POST"])
def archive_journey(journey_id):
    return json_response(service.set_status(tenant_id(routes.current_request), journey_id,
                                            "archived"))


@routes.route("/v1/journeys/{journey_id}/stats", methods=["GET"])
def get_journey_stats(journey_id):
    return json_response(stats.journey_stats(tenant_id(routes.current_request), journey_id))


@routes.route("/v1/users/{user_id}/journeys", methods=["GET"])
def list_user_journeys(user_id):
    return json_response(stats.user_journeys(tenant_id(routes.current_request), user_id))
