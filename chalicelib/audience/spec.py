"""OpenAPI paths for users, their tags and events, and audience settings."""
from chalicelib.audience.rules import IDENTITY_KINDS
from chalicelib.audience.stages import STAGES
from chalicelib.openapi import list_of, op, path_param, query_param, ref

TAG = "audience"
_TIME = {"type": ["string", "null"], "format": "date-time"}
_IDS = {"type": "object", "additionalProperties": False,
        "properties": {k: {"type": "string", "maxLength": 128} for k in IDENTITY_KINDS}}
_THRESHOLDS = {"type": "object", "additionalProperties": False, "properties": {
    name: {"type": "integer", "minimum": 1, "maximum": 365}
    for name in ("new_days", "active_days", "churn_days", "paying_days")}}
SCHEMAS = {
    "UserInput": {"type": "object", "additionalProperties": False, "properties": {
        "identities": _IDS, "tags": {"type": "array", "items": {"type": "string"}}}},
    "User": {"type": "object", "properties": {
        "id": {"type": "string"}, "identities": _IDS,
        "other_identities": {"type": "array", "items": {"type": "object", "properties": {
            "kind": {"type": "string"}, "value": {"type": "string"}}}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "tag_details": {"type": "object", "additionalProperties": {"type": "object", "properties": {
            "sources": {"type": "array", "items": {"enum": ["manual", "channel", "interest"]}},
            "weight": {"type": "integer", "description": "interest weight"}}}},
        "stage": {"enum": list(STAGES)}, "first_seen_at": _TIME, "last_active_at": _TIME,
        "last_paid_at": _TIME, "event_count": {"type": "integer"},
        "merged_from": {"type": "array", "items": {"type": "string"}}, "created_at": _TIME}},
    "EventInput": {"type": "object", "additionalProperties": False, "required": ["type"],
                   "properties": {
                       "user_id": {"type": "string"},
                       "identity": {**_IDS, "description": "exactly one kind, instead of user_id"},
                       "type": {"type": "string", "pattern": "^[a-z][a-z0-9_.:-]{0,47}$",
                                "example": "order_paid"},
                       "at": {"type": "string", "format": "date-time"},
                       "properties": {"type": "object", "description": "≤ 4 KB of JSON"}}},
    "UserEvent": {"type": "object", "properties": {
        "type": {"type": "string"}, "at": _TIME, "properties": {"type": "object"}}},
    "AudiencePreview": {"type": "object", "properties": {
        "count": {"type": "integer", "description": "matching users, at most 10,000"},
        "exact": {"type": "boolean", "description": "false when more than 10,000 match"},
        "audience": ref("Audience"),
        "sample": {"type": "array", "items": ref("User"), "description": "the first 5, id order"}}},
    "AudienceSettings": {"type": "object", "properties": {"stage_thresholds": _THRESHOLDS}},
}
_UID = path_param("user_id", "user id")
_ERR = (400, 404, 409)
PATHS = {
    "/v1/users": {
        "post": op("Create or identify a user", TAG, body=ref("UserInput"), ok=201,
                   response=ref("User"), errors=_ERR,
                   description="201 with a new user; 200 with the existing user when one holds "
                               "any of the identities (merging users they prove are one)."),
        "get": op("List users by tags and stage", TAG, response=list_of(ref("User")), errors=(400,),
                  params=[query_param("tags"), query_param("match", {"enum": ["all", "any"]}),
                          query_param("not"),
                          query_param("stage", description="comma-separated: " + ", ".join(STAGES)),
                          query_param("identity", description="kind:value, e.g. openid:o123"),
                          query_param("cursor"), query_param("limit", {"type": "integer"})]),
    },
    "/v1/users/{user_id}": {"get": op("Get a user", TAG, params=[_UID], response=ref("User"))},
    "/v1/users/{user_id}/tags": {"post": op(
        "Tag a user", TAG, params=[_UID], response=ref("User"), errors=_ERR,
        body={"type": "object", "required": ["tags"], "additionalProperties": False,
              "properties": {"tags": {"type": "array", "items": {"type": "string"}}}})},
    "/v1/users/{user_id}/tags/{tag}": {"delete": op(
        "Remove a tag from a user", TAG, params=[_UID, path_param("tag", "URL-encoded tag")],
        response=ref("User"), errors=_ERR)},
    "/v1/users/{user_id}/events": {"get": op(
        "List a user's events", TAG, params=[_UID, query_param("limit", {"type": "integer"})],
        response=list_of(ref("UserEvent")))},
    "/v1/events": {"post": op("Record a server-side event", TAG, body=ref("EventInput"), ok=202,
                              response={"type": "object", "properties": {
                                  "accepted": {"type": "boolean"}, "user_id": {"type": "string"}}})},
    "/v1/audience/preview": {"get": op(
        "Preview an audience's size", TAG, response=ref("AudiencePreview"), errors=(400,),
        params=[query_param(k, description="comma-separated") for k in (
            "tags_all", "tags_any", "tags_none", "stages")],
        description="The audience as a campaign takes it (tags all/any/none, stages; none given: "
                    "every user), counted from the index up to 10,000, with the first 5 users.")},
    "/v1/audience/settings": {
        "get": op("Get audience settings", TAG, response=ref("AudienceSettings"), errors=()),
        "patch": op("Update audience settings", TAG, response=ref("AudienceSettings"),
                    body={"type": "object", "required": ["stage_thresholds"],
                          "properties": {"stage_thresholds": _THRESHOLDS}}, errors=(400,)),
    },
}
