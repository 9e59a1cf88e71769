"""Mini-program routes (/mp/v1, mini-program token) and the tenant's mini-program settings."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.content.routes import list_page
from chalicelib.http import json_body, json_response, query
from chalicelib.lazy import lazy
from chalicelib.web import Routes, tenant_id

routes = Routes(__name__)
if TYPE_CHECKING:  # the edges, for readers and mypy; at run time each loads on first use
    from chalicelib.content import service as content
    from chalicelib.mp import service
else:
    content = lazy("chalicelib.content.service")
    service = lazy("chalicelib.mp.service")


def mp_user(request) -> str:
    return request.context["yutang_mp_user_id"]


@routes.route("/mp/v1/login", methods=["POST"])
def mp_login():
    return json_response(service.login(json_body(routes.current_request)))


@routes.route("/mp/v1/me", methods=["GET"])
def get_mp_me():
    request = routes.current_request
    return json_response(service.me(tenant_id(request), mp_user(request)))


@routes.route("/mp/v1/contents", methods=["GET"])
def list_mp_contents():
    request = routes.current_request
    return json_response(list_page(tenant_id(request), query(request)))


@routes.route("/mp/v1/contents/{content_id}", methods=["GET"])
def get_mp_content(content_id):
    return json_response(content.get_item(tenant_id(routes.current_request), content_id))


@routes.route("/mp/v1/contents/{content_id}/events", methods=["POST"])
def record_mp_content_event(content_id):
    request = routes.current_request
    service.content_event(tenant_id(request), mp_user(request), content_id, json_body(request))
    return json_response({"accepted": True}, status=202)


@routes.route("/v1/mp/settings", methods=["GET"])
def get_mp_settings():
    return json_response(service.app_view(tenant_id(routes.current_request)))


@routes.route("/v1/mp/settings", methods=["PUT"])
def update_mp_settings():
    request = routes.current_request
    return json_response(service.set_app(tenant_id(request), json_body(request)))
