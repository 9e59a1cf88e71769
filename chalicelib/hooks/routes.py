"""Event webhook routes (marketer API): subscriptions and the delivery log."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.http import created, json_body, json_response, no_content, query
from chalicelib.lazy import lazy
from chalicelib.web import Routes, tenant_id

routes = Routes(__name__)
if TYPE_CHECKING:  # the edges, for readers and mypy; at run time each loads on first use
    from chalicelib.hooks import service
else:
    service = lazy("chalicelib.hooks.service")


@routes.route("/v1/webhook-subscriptions", methods=["POST"])
def create_webhook_subscription():
    request = routes.current_request
    return created(service.create(tenant_id(request), json_body(request)))


@routes.route("/v1/webhook-subscriptions", methods=["GET"])
def list_webhook_subscriptions():
    return json_response(service.list_subscriptions(tenant_id(routes.current_request)))


@routes.route("/v1/webhook-subscriptions/{subscription_id}", methods=["GET"])
def get_webhook_subscription(subscription_id):
    return json_response(service.get(tenant_id(routes.current_request), subscription_id))


@routes.route("/v1/webhook-subscriptions/{subscription_id}", methods=["PATCH"])
def update_webhook_subscription(subscription_id):
    request = routes.current_request
    return json_response(service.update(tenant_id(request), subscription_id, json_body(request)))


@routes.route("/v1/webhook-subscriptions/{subscription_id}", methods=["DELETE"])
def delete_webhook_subscription(subscription_id):
    service.delete(tenant_id(routes.current_request), subscription_id)
    return no_content()


@routes.route("/v1/webhook-deliveries", methods=["GET"])
def list_webhook_deliveries():
    request = routes.current_request
    return json_response(service.list_deliveries(tenant_id(request), query(request)))
