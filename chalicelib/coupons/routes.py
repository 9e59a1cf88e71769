"""Coupon routes (marketer API): pools, their codes and grants, redemptions."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.http import created, json_body, json_response
from chalicelib.lazy import lazy
from chalicelib.web import Routes, tenant_id

routes = Routes(__name__)
if TYPE_CHECKING:  # the edge, for readers and mypy; at run time it loads on first use
    from chalicelib.coupons import service
else:
    service = lazy("chalicelib.coupons.service")


@routes.route("/v1/coupons", methods=["POST"])
def create_coupon_pool():
    request = routes.current_request
    return created(service.create_pool(tenant_id(request), json_body(request)))


@routes.route("/v1/coupons", methods=["GET"])
def list_coupon_pools():
    return json_response(service.list_pools(tenant_id(routes.current_request)))


@routes.route("/v1/coupons/{pool_id}", methods=["GET"])
def get_coupon_pool(pool_id):
    return json_response(service.get_pool(tenant_id(routes.current_request), pool_id))


@routes.route("/v1/coupons/{pool_id}/codes", methods=["POST"])
def add_coupon_codes(pool_id):
    request = routes.current_request
    return json_response(service.add_codes(tenant_id(request), pool_id, json_body(request)))


@routes.route("/v1/coupons/{pool_id}/grants", methods=["GET"])
def list_coupon_grants(pool_id):
    return json_response(service.list_grants(tenant_id(routes.current_request), pool_id))


@routes.route("/v1/coupons/redemptions", methods=["POST"])
def redeem_coupon():
    request = routes.current_request
    return json_response(service.redeem(tenant_id(request), json_body(request)))
