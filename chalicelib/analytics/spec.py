"""OpenAPI paths for insight: overview, funnels, channels, heatmap, content per day, alerts."""
from chalicelib.analytics.insight import METRICS
from chalicelib.openapi import op, path_param, query_param, ref

TAG = "insight"
_INT = {"type": "integer"}
_DATE = {"type": "string", "format": "date"}
_FROM = query_param("from", _DATE, "first day (YYYY-MM-DD, or an ISO time with offset)")
_TO = query_param("to", _DATE, "last day, included")
_BOTS = query_param("include_bots", {"enum": ["0", "1"]},
                    "1: add bot and link-preview scans to the scan counts (default 0: left out)")
_WITHIN = query_param("within_days", {"type": "integer", "minimum": 1, "maximum": 30},
                      "a customer converts with an order_paid (or first_message) event within "
                      "this many days of the add (default 7)")
_METRICS = {"type": "object", "required": list(METRICS),
            "properties": dict.fromkeys(METRICS, _INT),
            "description": "net_added = staff_added - customers_lost; unique_visitors sums the "
                           "daily unique visitors of each code; bot_scans are never in scans "
                           "unless include_bots=1"}
_FUNNEL_COUNTS = dict.fromkeys(("scan", "shown", "added", "converted"), _INT)
SCHEMAS = {
    "InsightMetrics": _METRICS,
    "Overview": {"type": "object", "required": ["from", "to", "timezone", "totals", "previous",
                                                "days"], "properties": {
        "from": _DATE, "to": _DATE, "timezone": {"type": "string"},
        "include_bots": {"type": "boolean"}, "totals": ref("InsightMetrics"),
        "previous": {"type": "object", "properties": {"from": _DATE, "to": _DATE,
                                                      "totals": ref("InsightMetrics")}},
        "days": {"type": "array", "items": {"allOf": [
            {"type": "object", "properties": {"date": _DATE}}, ref("InsightMetrics")]}}}},
    "Funnel": {"type": "object", "required": ["steps", "targets", "from", "to", "timezone"],
               "properties": {
        "from": _DATE, "to": _DATE, "timezone": {"type": "string"}, "within_days": _INT,
        "steps": {"type": "array", "items": {"type": "object", "properties": {
            "key": {"enum": ["scan", "shown", "added", "converted"]}, "count": _INT}}},
        "targets": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "name": {"type": "string"},
            "kind": {"enum": ["group", "staff", "url"]}, **_FUNNEL_COUNTS}}}}},
    "Channels": {"type": "object", "required": ["items"], "properties": {
        "from": _DATE, "to": _DATE, "timezone": {"type": "string"}, "within_days": _INT,
        "items": {"type": "array", "items": {"type": "object", "properties": {
            "channel": {"type": "string"},
            "codes": {**_INT, "description": "live codes of the channel with activity in the range"},
            **_FUNNEL_COUNTS}}}}},
    "Heatmap": {"type": "object", "required": ["timezone", "matrix", "max"], "properties": {
        "from": _DATE, "to": _DATE, "timezone": {"type": "string"},
        "code_id": {"type": ["string", "null"]},
        "matrix": {"type": "array", "minItems": 7, "maxItems": 7, "description":
                   "rows Monday..Sunday, columns hours 0..23: people's scans (no bots)",
                   "items": {"type": "array", "minItems": 24, "maxItems": 24, "items": _INT}},
        "max": _INT}},
    "ContentStats": {"type": "object", "required": ["totals", "days"], "properties": {
        "from": _DATE, "to": _DATE, "timezone": {"type": "string"},
        "totals": {"type": "object", "properties": dict.fromkeys(
            ("views", "clicks", "favorites", "shares", "unique_users"), _INT)},
        "days": {"type": "array", "items": {"type": "object", "properties": {
            "date": _DATE,
            **dict.fromkeys(("views", "clicks", "favorites", "shares", "unique_users"), _INT)}}}}},
    "Alerts": {"type": "object", "required": ["items"], "properties": {"items": {
        "type": "array", "items": {"type": "object", "required": [
            "kind", "severity", "message", "object", "at"], "properties": {
            "kind": {"enum": ["target_expiring", "target_near_capacity", "target_full",
                              "sends_failed", "wecom_problem"]},
            "severity": {"enum": ["warning", "critical"]}, "message": {"type": "string"},
            "object": {"type": "object", "required": ["type", "id", "name"], "properties": {
                "type": {"enum": ["target", "campaign", "wecom_integration"]},
                "id": {"type": "string"}, "name": {"type": "string"},
                "code_id": {"type": "string", "description": "targets: the live code holding it"},
                "code_name": {"type": "string"},
                "run_id": {"type": "string", "description": "sends_failed: the run"},
                "failed": {"type": "integer", "description": "sends_failed: failed sends"},
                "count": {"type": "integer", "description": "wecom_problem: problems seen"}}},
            "at": {"type": "string", "format": "date-time"}}}}}},
}
PATHS = {
    "/v1/analytics/overview": {"get": op(
        "Get the overview", TAG, response=ref("Overview"), errors=(400,),
        params=[_FROM, _TO, query_param("tz", description="the tenant's timezone (the default) "
                                                          "or a zone with the same days"), _BOTS],
        description="Default range: the last 7 days in the tenant's timezone; `previous` is the "
                    "period of equal length just before. One Query over daily items.")},
    "/v1/livecodes/{code_id}/funnel": {"get": op(
        "Get a live code funnel", TAG, response=ref("Funnel"),
        params=[path_param("code_id"), _FROM, _TO, _WITHIN, _BOTS],
        description="scan → shown (answered with a target) → added (企业微信 add or group join "
                    "attributed to the code) → converted (order_paid / first_message within N "
                    "days of the add, counted on the add's day). Default range: 30 days.")},
    "/v1/analytics/channels": {"get": op(
        "Get the funnel per channel", TAG, response=ref("Channels"), errors=(400,),
        params=[_FROM, _TO, _WITHIN, _BOTS])},
    "/v1/analytics/heatmap": {"get": op(
        "Get the scan heatmap", TAG, response=ref("Heatmap"),
        params=[query_param("code_id", description="one live code (its timezone); all codes "
                                                   "(tenant timezone) when left out"), _FROM, _TO])},
    "/v1/contents/{content_id}/stats": {"get": op(
        "Get content stats per day", TAG, response=ref("ContentStats"),
        params=[path_param("content_id"), _FROM, _TO])},
    "/v1/alerts": {"get": op(
        "List alerts", TAG, response=ref("Alerts"), errors=(),
        description="Group QR images expiring within 48 h, targets ≥ 90% full or full, campaign "
                    "runs with failed sends in the last 7 days, 企业微信 problems of the last day.")},
}
