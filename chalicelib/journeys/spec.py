"""OpenAPI paths for journeys, their stats and a person's journeys."""
from chalicelib.openapi import list_of, op, path_param, query_param, ref

TAG = "journeys"
_ID = path_param("journey_id")
_TIME = {"type": ["string", "null"], "format": "date-time"}
_STEP_TYPES = ["wait", "branch", "wait_event", "send", "tag", "webhook", "split", "exit"]
SCHEMAS = {
    "JourneyStep": {"type": "object", "required": ["id", "type"], "properties": {
        "id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"},
        "type": {"enum": _STEP_TYPES},
        "next": {"type": "string", "description": "the following step (all but branch, split, "
                                                  "exit; wait_event: on the event)"},
        "minutes": {"type": "integer"}, "hours": {"type": "integer"}, "days": {"type": "integer"},
        "until": {"type": "string", "pattern": "^\\d\\d:\\d\\d$",
                  "description": "wait: the next such local time (journey or tenant timezone)"},
        "if": {"type": "object", "description": "branch condition: tags_all|tags_any|tags_none|"
                                                "stage|event_since_entry|{property, op, value}|"
                                                "all|any|not"},
        "then": {"type": "string"}, "else": {"type": "string"},
        "event": {"type": "string", "description": "wait_event: the event type waited for"},
        "timeout_minutes": {"type": "integer"}, "timeout_hours": {"type": "integer"},
        "timeout_days": {"type": "integer"},
        "timeout": {"type": "string", "description": "wait_event: the step after the timeout"},
        "channel": {"enum": ["outbox", "webhook", "wecom"]},
        "message": {"type": "object", "description": "{text?, content_id?} or a smart-push "
                                                     "{pick, pool, fallback_content_id}"},
        "caps": ref("Caps"), "quiet_hours": ref("QuietHours"),
        "add": {"type": "array", "items": {"type": "string"}},
        "remove": {"type": "array", "items": {"type": "string"}},
        "url": {"type": "string", "format": "uri"},
        "arms": {"type": "array", "items": {"type": "object", "required": ["name", "weight", "next"],
                                            "properties": {"name": {"type": "string"},
                                                           "weight": {"type": "integer"},
                                                           "next": {"type": "string"}}}}}},
    "JourneyInput": {"type": "object", "additionalProperties": False, "properties": {
        "name": {"type": "string", "maxLength": 100},
        "entry": {"type": "object", "description": "{event} (order_paid, joined_group, "
                                                   "staff_added, clicked or custom), {tag_added} "
                                                   "or {stage_changed}"},
        "reentry": {"type": "object", "properties": {
            "mode": {"enum": ["never", "after_days", "always"]}, "days": {"type": "integer"}}},
        "goal": {"type": ["object", "null"], "properties": {"event": {"type": "string"}}},
        "timezone": {"type": "string"},
        "steps": {"type": "array", "items": ref("JourneyStep"),
                  "description": "the first step is where people start"}}},
    "Journey": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"},
        "status": {"enum": ["active", "paused", "archived"]}, "entry": {"type": "object"},
        "reentry": {"type": "object"}, "timezone": {"type": ["string", "null"]},
        "version": {"type": "integer"}, "steps": {"type": "array", "items": ref("JourneyStep")},
        "goal": {"type": ["object", "null"]}, "created_at": _TIME, "updated_at": _TIME}},
    "JourneyStats": {"type": "object", "properties": {
        "entered": {"type": "integer"}, "exited": {"type": "integer"},
        "converted": {"type": "integer"}, "archived": {"type": "integer"},
        "steps": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "people": {"type": "integer"},
            "executions": {"type": "integer"}, "outcomes": {"type": "object"}}}},
        "paths": {"type": "array", "items": {"type": "object", "properties": {
            "path": {"type": "string"}, "people": {"type": "integer"},
            "conversions": {"type": "integer"}, "rate": {"type": ["number", "null"]}}}},
        "splits": {"type": "array", "items": {"type": "object", "properties": {
            "step": {"type": "string"}, "arms": {"type": "array", "items": {
                "type": "object", "properties": {
                    "name": {"type": "string"}, "people": {"type": "integer"},
                    "conversions": {"type": "integer"}, "rate": {"type": ["number", "null"]},
                    "vs_first": {"type": ["object", "null"],
                                 "description": "two-proportion z-test: {z, p_value}"}}}}}}}}},
    "UserJourney": {"type": "object", "properties": {
        "journey_id": {"type": "string"}, "entry_id": {"type": "string"},
        "version": {"type": "integer"}, "status": {"type": "string"},
        "step": {"type": "string"}, "path": {"type": "string"}, "arms": {"type": "object"},
        "entered_at": _TIME, "ended_at": _TIME, "history": {"type": "array", "items": {
            "type": "object", "properties": {"step": {"type": "string"}, "at": _TIME,
                                             "outcome": {"type": "string"}}}}}},
}

PATHS = {
    "/v1/journeys": {
        "post": op("Create a journey", TAG, body=ref("JourneyInput"), ok=201,
                   response=ref("Journey"), errors=(400,)),
        "get": op("List journeys", TAG, response=list_of(ref("Journey")), errors=(400,),
                  params=[query_param("limit", {"type": "integer", "minimum": 1, "maximum": 100}),
                          query_param("cursor")]),
    },
    "/v1/journeys/{journey_id}": {
        "get": op("Get a journey", TAG, params=[_ID], response=ref("Journey")),
        "patch": op("Update a journey", TAG, params=[_ID], body=ref("JourneyInput"),
                    response=ref("Journey"), errors=(400, 404, 409),
                    description="New steps or goal make a new version; people in flight finish "
                                "on the version they entered."),
        "delete": op("Delete a journey", TAG, params=[_ID], ok=204),
    },
    "/v1/journeys/{journey_id}/pause": {"post": op(
        "Pause a journey", TAG, params=[_ID], response=ref("Journey"), errors=(404, 409))},
    "/v1/journeys/{journey_id}/resume": {"post": op(
        "Resume a journey", TAG, params=[_ID], response=ref("Journey"), errors=(404, 409))},
    "/v1/journeys/{journey_id}/archive": {"post": op(
        "Archive a journey", TAG, params=[_ID], response=ref("Journey"), errors=(404,))},
    "/v1/journeys/{journey_id}/stats": {"get": op(
        "Get journey stats", TAG, params=[_ID], response=ref("JourneyStats"))},
    "/v1/users/{user_id}/journeys": {"get": op(
        "List a user's journeys", TAG, params=[path_param("user_id")],
        response=list_of(ref("UserJourney")), errors=())},
}
