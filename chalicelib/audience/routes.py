"""Audience routes (marketer API): users, their tags and events, server-side events, settings."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import validate as v
from chalicelib.http import created, json_body, json_response, query
from chalicelib.lazy import lazy
from chalicelib.web import Routes, tenant_id

routes = Routes(__name__)
if TYPE_CHECKING:  # the edges, for readers and mypy; at run time each loads on first use
    from chalicelib.audience import activity, inputs, users
else:
    inputs = lazy("chalicelib.audience.inputs")
    users = lazy("chalicelib.audience.users")
    activity = lazy("chalicelib.audience.activity")


@routes.route("/v1/users", methods=["POST"])
def create_user():
    request = routes.current_request
    user, is_new = inputs.identify(tenant_id(request), json_body(request))
    return created(user) if is_new else json_response(user)


@routes.route("/v1/users", methods=["GET"])
def list_users():
    request = routes.current_request
    return json_response(inputs.list_users(tenant_id(request), query(request)))


@routes.route("/v1/users/{user_id}", methods=["GET"])
def get_user(user_id):
    return json_response(users.get_user(tenant_id(routes.current_request), user_id))


@routes.route("/v1/users/{user_id}/tags", methods=["POST"])
def tag_user(user_id):
    request = routes.current_request
    body = json_body(request)
    v.only_keys(body, {"tags"})
    tags = v.list_(body, "tags", required=True, max_items=50)
    return json_response(users.tag_user(tenant_id(request), user_id, tags))


@routes.route("/v1/users/{user_id}/tags/{tag}", methods=["DELETE"])
def untag_user(user_id, tag):
    from urllib.parse import unquote

    request = routes.current_request
    return json_response(users.untag_user(tenant_id(request), user_id, unquote(tag)))


@routes.route("/v1/users/{user_id}/events", methods=["GET"])
def list_user_events(user_id):
    request = routes.current_request
    limit = v.page_limit(query(request), default=50, hi=200)
    return json_response({"items": activity.list_events(tenant_id(request), user_id, limit),
                          "next_cursor": None})


@routes.route("/v1/events", methods=["POST"])
def record_event():
    request = routes.current_request
    return json_response(inputs.record_event(tenant_id(request), json_body(request)), status=202)


@routes.route("/v1/audience/preview", methods=["GET"])
def preview_audience():
    """Read-only: how many users an audience (as a campaign takes it) holds, and a few of them."""
    request = routes.current_request
    return json_response(inputs.preview(tenant_id(request), query(request)))


@routes.route("/v1/audience/settings", methods=["GET"])
def get_audience_settings():
    from chalicelib.audience import thresholds  # only the settings routes need it

    values = thresholds.get_thresholds(tenant_id(routes.current_request), max_age=0)
    return json_response({"stage_thresholds": values.as_dict()})


@routes.route("/v1/audience/settings", methods=["PATCH"])
def update_audience_settings():
    from chalicelib.audience import thresholds  # only the settings routes need it

    request = routes.current_request
    body = json_body(request)
    v.only_keys(body, {"stage_thresholds"})
    changes = v.object_(body, "stage_thresholds", required=True)
    return json_response({"stage_thresholds": thresholds.set_thresholds(tenant_id(request), changes)})
