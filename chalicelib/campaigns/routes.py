"""HTTP routes for campaigns (marketer API), the outbox, messaging defaults, unsubscribes
(mini-program) and tracked links (public).

The service (models, schedules, PynamoDB transactions) is bound lazily (chalicelib.lazy), so
``import app`` stays light for every other route's cold start."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from chalicelib import validate as v
from chalicelib.http import created, json_body, json_response, no_content, query
from chalicelib.lazy import lazy
from chalicelib.web import Routes, tenant_id

routes = Routes(__name__)
STATUSES = ("active", "paused")
DELIVERY_STATUSES = ("sent", "failed", "skipped", "pending", "deferred", "sending")


if TYPE_CHECKING:  # the edges, for readers and mypy; at run time each loads on first use
    from chalicelib.campaigns import service
else:
    service = lazy("chalicelib.campaigns.service")


def _mp_user(request) -> str:
    return request.context["yutang_mp_user_id"]


@routes.route("/v1/campaigns", methods=["POST"])
def create_campaign():
    return created(service.create(tenant_id(routes.current_request), json_body(routes.current_request)))


@routes.route("/v1/campaigns", methods=["GET"])
def list_campaigns():
    params = query(routes.current_request)
    status = v.choice(params, "status", STATUSES)
    return json_response(service.list_campaigns(tenant_id(routes.current_request), v.page_limit(params),
                                                params.get("cursor"), status))


@routes.route("/v1/campaigns/{campaign_id}", methods=["GET"])
def get_campaign(campaign_id):
    return json_response(service.get(tenant_id(routes.current_request), campaign_id))


@routes.route("/v1/campaigns/{campaign_id}", methods=["PATCH"])
def update_campaign(campaign_id):
    request = routes.current_request
    return json_response(service.update(tenant_id(request), campaign_id, json_body(request)))


@routes.route("/v1/campaigns/{campaign_id}", methods=["DELETE"])
def delete_campaign(campaign_id):
    service.delete(tenant_id(routes.current_request), campaign_id)
    return no_content()


@routes.route("/v1/campaigns/{campaign_id}/run", methods=["POST"])
def run_campaign(campaign_id):
    run_id = service.run_now(tenant_id(routes.current_request), campaign_id)
    return json_response({"run_id": run_id}, status=202)


@routes.route("/v1/campaigns/{campaign_id}/pause", methods=["POST"])
def pause_campaign(campaign_id):
    return json_response(service.set_status(tenant_id(routes.current_request), campaign_id, "paused"))


@routes.route("/v1/campaigns/{campaign_id}/resume", methods=["POST"])
def resume_campaign(campaign_id):
    return json_response(service.set_status(tenant_id(routes.current_request), campaign_id, "active"))


@routes.route("/v1/campaigns/{campaign_id}/runs", methods=["GET"])
def list_campaign_runs(campaign_id):
    return json_response(service.list_runs(tenant_id(routes.current_request), campaign_id))


@routes.route("/v1/campaigns/{campaign_id}/stats", methods=["GET"])
def get_campaign_stats(campaign_id):
    request = routes.current_request
    run_id = v.text(query(request), "run_id", max_len=40)
    return json_response(service.stats(tenant_id(request), campaign_id, run_id))


@routes.route("/v1/campaigns/{campaign_id}/deliveries", methods=["GET"])
def list_campaign_deliveries(campaign_id):
    request = routes.current_request
    params = query(request)
    status = v.choice(params, "status", DELIVERY_STATUSES)
    return json_response(service.deliveries(tenant_id(request), campaign_id, v.page_limit(params),
                                            params.get("cursor"), v.text(params, "run_id", max_len=40),
                                            status))


@routes.route("/v1/outbox", methods=["GET"])
def list_outbox():
    request = routes.current_request
    params = query(request)
    return json_response(service.outbox(tenant_id(request), v.page_limit(params), params.get("cursor"),
                                        v.text(params, "campaign_id", max_len=40),
                                        v.text(params, "run_id", max_len=40)))


@routes.route("/v1/messaging/settings", methods=["GET"])
def get_messaging_settings():
    return json_response(service.messaging_settings(tenant_id(routes.current_request), max_age=0))


@routes.route("/v1/messaging/settings", methods=["PATCH"])
def update_messaging_settings():
    request = routes.current_request
    return json_response(service.update_messaging_settings(tenant_id(request), json_body(request)))


@routes.route("/mp/v1/unsubscribe", methods=["GET"])
def get_subscription():
    request = routes.current_request
    return json_response(service.subscription(tenant_id(request), _mp_user(request)))


@routes.route("/mp/v1/unsubscribe", methods=["POST"])
def unsubscribe():
    request = routes.current_request
    return json_response(service.set_unsubscribed(tenant_id(request), _mp_user(request), True))


@routes.route("/mp/v1/unsubscribe", methods=["DELETE"])
def resubscribe():
    request = routes.current_request
    return json_response(service.set_unsubscribed(tenant_id(request), _mp_user(request), False))


@routes.route("/c/{token}", methods=["GET"])
def follow_link(token):
    url = service.click(token)
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store",
                                                       "Referrer-Policy": "no-referrer"})
