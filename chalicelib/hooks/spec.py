"""OpenAPI paths for event webhooks."""
from chalicelib.hooks.service import EVENT_TYPES, STATUSES
from chalicelib.openapi import list_of, op, path_param, query_param, ref

TAG = "webhooks"
_TIME = {"type": ["string", "null"], "format": "date-time"}
_EVENTS = {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": list(EVENT_TYPES)},
           "description": "event types (docs/events.md describes each payload)"}
_SUB_FIELDS = {"url": {"type": "string", "format": "uri",
                       "description": "http(s), public addresses only"},
               "events": _EVENTS, "description": {"type": ["string", "null"], "maxLength": 200},
               "enabled": {"type": "boolean", "default": True},
               "include_imported": {"type": "boolean", "default": False, "description":
                                    "also deliver the events an import recorded (history, marked "
                                    "imported: true in data); off, an import delivers nothing"}}
SCHEMAS = {
    "WebhookSubscriptionInput": {"type": "object", "additionalProperties": False,
                                 "required": ["url", "events"], "properties": _SUB_FIELDS},
    "WebhookSubscriptionPatch": {"type": "object", "additionalProperties": False, "properties": {
        **_SUB_FIELDS, "rotate_secret": {"type": "boolean",
                                         "description": "a new secret, shown in this answer"}}},
    "WebhookSubscription": {"type": "object", "properties": {
        "id": {"type": "string"}, **_SUB_FIELDS, "created_at": _TIME, "updated_at": _TIME,
        "secret": {"type": "string", "description": "only in the create / rotate answer: the "
                                                    "HMAC-SHA256 key of X-Yutang-Signature"}}},
    "WebhookDelivery": {"type": "object", "properties": {
        "id": {"type": "string", "description": "also the X-Yutang-Delivery header (stable "
                                                "across retries: dedupe on it)"},
        "subscription_id": {"type": "string"}, "event_type": {"enum": list(EVENT_TYPES)},
        "status": {"enum": list(STATUSES)}, "attempts": {"type": "integer"},
        "response_status": {"type": ["integer", "null"]},
        "last_error": {"type": ["string", "null"]}, "created_at": _TIME, "delivered_at": _TIME,
        "next_attempt_at": _TIME}},
}
_ID = path_param("subscription_id", "subscription id")
PATHS = {
    "/v1/webhook-subscriptions": {
        "post": op("Subscribe a URL to events", TAG, body=ref("WebhookSubscriptionInput"), ok=201,
                   response=ref("WebhookSubscription"), errors=(400, 409),
                   description="Deliveries: POST {id, type, created_at, tenant_id, data} with "
                               "X-Yutang-Timestamp, X-Yutang-Signature (sha256=HMAC of "
                               "'<timestamp>.<body>'), X-Yutang-Event, X-Yutang-Delivery; retried "
                               "with backoff until a 2xx (6 attempts)."),
        "get": op("List webhook subscriptions", TAG,
                  response=list_of(ref("WebhookSubscription")), errors=()),
    },
    "/v1/webhook-subscriptions/{subscription_id}": {
        "get": op("Get a webhook subscription", TAG, params=[_ID],
                  response=ref("WebhookSubscription")),
        "patch": op("Update a webhook subscription", TAG, params=[_ID],
                    body=ref("WebhookSubscriptionPatch"), response=ref("WebhookSubscription")),
        "delete": op("Delete a webhook subscription", TAG, params=[_ID], ok=204, errors=(404,)),
    },
    "/v1/webhook-deliveries": {"get": op(
        "List webhook deliveries", TAG, response=list_of(ref("WebhookDelivery")), errors=(400, 404),
        params=[query_param("subscription_id"), query_param("status", {"enum": list(STATUSES)}),
                query_param("cursor"), query_param("limit", {"type": "integer"})])},
}
