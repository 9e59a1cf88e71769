"""Insight routes (marketer API): overview, funnels, channels, heatmap, content per day, alerts."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.errors import ValidationFailed
from chalicelib.http import json_response, query
from chalicelib.lazy import lazy
from chalicelib.web import Routes, tenant_id

routes = Routes(__name__)
if TYPE_CHECKING:  # the edges, for readers and mypy; at run time each loads on first use
    from chalicelib.analytics import insight
    from chalicelib.content import service as contents
    from chalicelib.livecodes import service as livecodes
else:
    insight = lazy("chalicelib.analytics.insight")
    livecodes = lazy("chalicelib.livecodes.service")
    contents = lazy("chalicelib.content.service")


def include_bots(params: dict) -> bool:
    value = params.get("include_bots", "0").lower()
    if value not in ("0", "1", "true", "false"):
        raise ValidationFailed("'include_bots' must be 0 or 1", field="include_bots")
    return value in ("1", "true")


@routes.route("/v1/analytics/overview", methods=["GET"])
def get_overview():
    request = routes.current_request
    params = query(request)
    return json_response(insight.overview(tenant_id(request), params.get("from"), params.get("to"),
                                          params.get("tz"), include_bots(params)))


@routes.route("/v1/livecodes/{code_id}/funnel", methods=["GET"])
def get_livecode_funnel(code_id):
    request = routes.current_request
    params = query(request)
    within = insight.within(params.get("within_days"))
    bots = include_bots(params)
    code = livecodes.load(tenant_id(request), code_id)
    return json_response(insight.livecode_funnel(code, params.get("from"), params.get("to"),
                                                 within, bots))


@routes.route("/v1/analytics/channels", methods=["GET"])
def get_channels():
    request = routes.current_request
    params = query(request)
    return json_response(insight.channels(tenant_id(request), params.get("from"), params.get("to"),
                                          insight.within(params.get("within_days")),
                                          include_bots(params)))


@routes.route("/v1/analytics/heatmap", methods=["GET"])
def get_heatmap():
    request = routes.current_request
    params = query(request)
    tenant = tenant_id(request)
    code = livecodes.load(tenant, params["code_id"]) if params.get("code_id") else None
    return json_response(insight.heatmap(tenant, code, params.get("from"), params.get("to")))


@routes.route("/v1/contents/{content_id}/stats", methods=["GET"])
def get_content_stats(content_id):
    request = routes.current_request
    params = query(request)
    tenant = tenant_id(request)
    contents.load(tenant, content_id)  # 404 for an item that does not exist
    return json_response(insight.content_stats(tenant, content_id, params.get("from"),
                                               params.get("to")))


@routes.route("/v1/alerts", methods=["GET"])
def get_alerts():
    return json_response(insight.alerts(tenant_id(routes.current_request)))
