"""OpenAPI paths for campaigns, runs, stats, deliveries, the outbox, messaging defaults,
unsubscribes and tracked links."""
from chalicelib.openapi import list_of, op, path_param, query_param, ref

TAG = "campaigns"
_TIME = {"type": ["string", "null"], "format": "date-time"}
_ID = path_param("campaign_id")
_LIST = [query_param("limit", {"type": "integer", "minimum": 1, "maximum": 100}),
         query_param("cursor")]
_CAP = {"type": ["integer", "null"], "minimum": 1, "maximum": 1000,
        "description": "null: no cap; absent: inherit"}
_TAGS = {"type": "array", "items": {"type": "string"}}
_REASONS = ["capped_day", "capped_week", "unsubscribed", "no_identity_for_channel",
            "not_in_audience", "user_not_found", "campaign_paused", "campaign_deleted",
            "pool_exhausted", "coupons_exhausted"]
SCHEMAS = {
    "Audience": {"type": "object", "additionalProperties": False, "properties": {
        "tags_all": _TAGS, "tags_any": _TAGS, "tags_none": _TAGS,
        "stages": {"type": "array", "items": {"enum": ["new", "active", "silent", "churned",
                                                       "paying"]}}},
        "description": "empty: every user"},
    "Message": {"oneOf": [ref("FixedMessage"), ref("SmartMessage")]},
    "FixedMessage": {"type": "object", "additionalProperties": False, "properties": {
        "content_id": {"type": ["string", "null"]},
        "text": {"type": ["string", "null"], "maxLength": 2000,
                 "description": "http(s) links are rewritten to tracked /c/{token} links; "
                                "{coupon} is replaced by the recipient's coupon code"},
        "coupon": ref("CouponRef")}},
    "SmartMessage": {
        "type": "object", "additionalProperties": False, "required": ["pick", "pool"],
        "description": "Smart push: each recipient gets the pool item with the highest affinity "
                       "to their interest tags and stage, not sent to them within "
                       "avoid_sent_within_days (docs/campaigns.md, Smart push)",
        "properties": {
            "pick": {"enum": ["best_match"]},
            "pool": {"type": "object", "additionalProperties": False, "properties": {
                "tags_any": {**_TAGS, "maxItems": 20}, "type": {"enum": [
                    "text", "image", "video", "audio", "article", "link", "miniprogram",
                    "file"]}}, "description": "tags_any and/or type"},
            "avoid_sent_within_days": {"type": "integer", "minimum": 0, "maximum": 90},
            "fallback_content_id": {"type": ["string", "null"],
                                    "description": "sent when no pool item matches at all"},
            "text": {"type": ["string", "null"], "maxLength": 2000},
            "coupon": ref("CouponRef")}},
    "CouponRef": {"type": ["object", "null"], "additionalProperties": False,
                  "required": ["pool_id"], "properties": {"pool_id": {"type": "string"}},
                  "description": "grant each recipient one code of this coupon pool (once per "
                                 "person per campaign); shown where the text says {coupon}"},
    "Pick": {"type": ["object", "null"], "description": "smart push: the chosen item and why",
             "properties": {
                 "content_id": {"type": ["string", "null"]},
                 "reason": {"enum": ["best_match", "fallback", "newest", "pool_exhausted"]},
                 "score": {"type": "number"}, "matched_tags": _TAGS,
                 "skipped_recent": {"type": "array", "items": {"type": "string"},
                                    "description": "pool items skipped: sent recently"}}},
    "Schedule": {"type": ["object", "null"], "additionalProperties": False,
                 "description": "exactly one key; null or {} = manual (POST …/run)", "properties": {
                     "at": {"type": "string", "format": "date-time"},
                     "cron": {"type": "string", "example": "0 10 * * 1",
                              "description": "5 fields, in the campaign's timezone"},
                     "after_event": {"type": "object", "required": ["type"], "properties": {
                         "type": {"type": "string", "example": "joined_group"},
                         "delay_minutes": {"type": "integer", "minimum": 0}}}}},
    "Caps": {"type": ["object", "null"], "additionalProperties": False,
             "properties": {"per_day": _CAP, "per_week": _CAP}},
    "QuietHours": {"oneOf": [
        {"type": "object", "required": ["start", "end"], "additionalProperties": False,
         "properties": {"start": {"type": "string", "pattern": "^\\d\\d:\\d\\d$"},
                        "end": {"type": "string", "pattern": "^\\d\\d:\\d\\d$"}}},
        {"type": "boolean", "enum": [False]}, {"type": "null"}],
        "description": "{start, end} local time (overnight allowed), false: none, null: inherit"},
    "CampaignInput": {"type": "object", "additionalProperties": False, "properties": {
        "name": {"type": "string", "maxLength": 100}, "audience": ref("Audience"),
        "message": ref("Message"), "channel": {"enum": ["outbox", "webhook", "wecom"]},
        "webhook_url": {"type": ["string", "null"], "format": "uri"},
        "schedule": ref("Schedule"), "timezone": {"type": "string", "example": "Asia/Shanghai"},
        "caps": ref("Caps"), "quiet_hours": ref("QuietHours")}},
    "Campaign": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"},
        "status": {"enum": ["active", "paused"]}, "audience": ref("Audience"),
        "message": ref("Message"), "channel": {"type": "string"},
        "webhook_url": {"type": ["string", "null"]}, "schedule": ref("Schedule"),
        "timezone": {"type": "string"}, "caps": ref("Caps"), "quiet_hours": ref("QuietHours"),
        "next_run_at": _TIME, "last_run_id": {"type": ["string", "null"]},
        "created_at": _TIME, "updated_at": _TIME}},
    "RunStats": {"type": "object", "properties": {
        "audience_size": {"type": "integer"}, "queued": {"type": "integer"},
        "sent": {"type": "integer"}, "failed": {"type": "integer"},
        "skipped": {"type": "object", "propertyNames": {"enum": _REASONS},
                    "additionalProperties": {"type": "integer"}},
        "skipped_total": {"type": "integer"},
        "deferred": {"type": "integer", "description": "times recipients waited for quiet hours"},
        "clicked": {"type": "integer", "description": "recipients who clicked"},
        "clicks": {"type": "integer"}, "pending": {"type": "integer"}}},
    "Run": {"allOf": [ref("RunStats"), {"type": "object", "properties": {
        "id": {"type": "string"}, "trigger": {"enum": ["manual", "schedule", "event"]},
        "status": {"enum": ["dispatching", "deferred", "sending", "done", "live"]},
        "created_at": _TIME, "deferred_until": _TIME}}]},
    "CampaignStats": {"allOf": [ref("RunStats"), {"type": "object", "properties": {
        "campaign_id": {"type": "string"}, "run_id": {"type": ["string", "null"]},
        "runs": {"type": "integer"}}}]},
    "Delivery": {"type": "object", "properties": {
        "run_id": {"type": "string"}, "user_id": {"type": "string"},
        "status": {"enum": ["sent", "failed", "skipped", "pending", "deferred", "sending"]},
        "reason": {"type": ["string", "null"]}, "at": _TIME, "clicked_at": _TIME,
        "detail": {"type": ["string", "null"]}, "pick": ref("Pick"),
        "coupon": {"type": ["string", "null"], "description": "the coupon code granted"}}},
    "OutboxMessage": {"type": "object", "properties": {
        "campaign_id": {"type": "string"}, "run_id": {"type": "string"},
        "user_id": {"type": "string"}, "text": {"type": ["string", "null"]},
        "content": {"type": ["object", "null"]},
        "source": {"enum": ["campaign", "fission_reward"], "description":
                   "fission_reward: a reward notice (campaign_id is the fission task, run_id the "
                   "participant)"},
        "created_at": _TIME}},
    "MessagingSettings": {"type": "object", "properties": {
        "caps": ref("Caps"),
        "channel_caps": {"type": "object", "additionalProperties": ref("Caps")},
        "quiet_hours": ref("QuietHours")}},
    "Subscription": {"type": "object", "properties": {
        "user_id": {"type": "string"}, "unsubscribed": {"type": "boolean"}}},
}
PATHS = {
    "/v1/campaigns": {
        "post": op("Create a campaign", TAG, body=ref("CampaignInput"), ok=201,
                   response=ref("Campaign"), errors=(400, 409)),
        "get": op("List campaigns", TAG, response=list_of(ref("Campaign")), errors=(400,),
                  params=[*_LIST, query_param("status", {"enum": ["active", "paused"]})]),
    },
    "/v1/campaigns/{campaign_id}": {
        "get": op("Get a campaign", TAG, params=[_ID], response=ref("Campaign")),
        "patch": op("Update a campaign", TAG, params=[_ID], body=ref("CampaignInput"),
                    response=ref("Campaign"), errors=(400, 404, 409)),
        "delete": op("Delete a campaign", TAG, params=[_ID], ok=204, errors=(404, 409)),
    },
    "/v1/campaigns/{campaign_id}/run": {"post": op(
        "Run a campaign now", TAG, params=[_ID], ok=202, errors=(404, 409),
        response={"type": "object", "properties": {"run_id": {"type": "string"}}})},
    "/v1/campaigns/{campaign_id}/pause": {"post": op(
        "Pause a campaign", TAG, params=[_ID], response=ref("Campaign"), errors=(404, 409),
        description="Stops future fires and triggers; queued batches skip (campaign_paused).")},
    "/v1/campaigns/{campaign_id}/resume": {"post": op(
        "Resume a campaign", TAG, params=[_ID], response=ref("Campaign"), errors=(404, 409))},
    "/v1/campaigns/{campaign_id}/runs": {"get": op(
        "List a campaign's runs", TAG, params=[_ID], response=list_of(ref("Run")))},
    "/v1/campaigns/{campaign_id}/stats": {"get": op(
        "Get campaign stats", TAG, params=[_ID, query_param("run_id")],
        response=ref("CampaignStats"))},
    "/v1/campaigns/{campaign_id}/deliveries": {"get": op(
        "List a campaign's deliveries", TAG, response=list_of(ref("Delivery")),
        params=[_ID, *_LIST, query_param("run_id"), query_param("status", {"enum": [
            "sent", "failed", "skipped", "pending", "deferred", "sending"]})])},
    "/v1/outbox": {"get": op(
        "List outbox messages", TAG, response=list_of(ref("OutboxMessage")), errors=(400,),
        params=[*_LIST, query_param("campaign_id"), query_param("run_id")])},
    "/v1/messaging/settings": {
        "get": op("Get messaging defaults", TAG, response=ref("MessagingSettings"), errors=()),
        "patch": op("Update messaging defaults", TAG, body=ref("MessagingSettings"),
                    response=ref("MessagingSettings"), errors=(400,)),
    },
    "/mp/v1/unsubscribe": {
        "get": op("Get the user's subscription", TAG, auth="mpToken", response=ref("Subscription"),
                  errors=(404,)),
        "post": op("Unsubscribe from campaign messages", TAG, auth="mpToken",
                   response=ref("Subscription"), errors=(404,)),
        "delete": op("Subscribe to campaign messages again", TAG, auth="mpToken",
                     response=ref("Subscription"), errors=(404,)),
    },
    "/c/{token}": {"get": op(
        "Follow a tracked link", TAG, auth=None, ok=302, params=[path_param("token")],
        errors=(404,), description="Counts the click, tags the user clicked:<campaign>, "
                                   "redirects to the link's target.")},
}
