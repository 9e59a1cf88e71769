"""OpenAPI paths for the 企业微信 integration, and its options on live code targets."""
from typing import Any

from chalicelib.livecodes import spec as livecodes_spec
from chalicelib.openapi import op, path_param, query_param, ref

TAG = "wecom"
_TIME = {"type": "string", "format": "date-time"}
_IDS = {"type": "array", "items": {"type": "string", "maxLength": 64}, "uniqueItems": True}
TARGET_OPTIONS = {
    "wecom_user_ids": {**_IDS, "minItems": 1, "maxItems": 100, "description":
                       "staff targets: 企业微信 user ids; creates a 「联系我」 contact way (single for "
                       "one id, multi for several) whose QR becomes the target's image"},
    "skip_verify": {"type": "boolean", "default": True,
                    "description": "staff targets: add customers without the staff member's approval"},
    "wecom_chat_ids": {**_IDS, "minItems": 1, "maxItems": 5, "description":
                       "group targets: customer group chat ids; creates a group join way whose QR "
                       "becomes the target's image and whose real member count drives capacity"},
    "auto_create_room": {"type": "boolean", "default": False,
                         "description": "group targets: 企业微信 opens a new group when all are full"},
    "room_base_name": {"type": "string", "maxLength": 40},
    "room_base_id": {"type": "integer", "minimum": 1},
}
_CONTACT = ("the first attribution (the code, target and channel the customer first came through) "
            "and staff, with the audience user's tags and latest events (joined_staff, left_staff, "
            "joined_group, ...)")
_target_input: dict[str, Any] = livecodes_spec.SCHEMAS["TargetInput"]
_target: dict[str, Any] = livecodes_spec.SCHEMAS["Target"]

SCHEMAS = {
    # The live code target schemas, with the 企业微信 options this package adds to them.
    "TargetInput": {**_target_input,
                    "properties": {**_target_input["properties"], **TARGET_OPTIONS}},
    "Target": {**_target, "properties": {**_target["properties"], "wecom": {
        "type": ["object", "null"], "description": "the 企业微信 way behind the target",
        "properties": {"way": {"enum": ["contact", "join"]}, "config_id": {"type": "string"},
                       "qr_code": {"type": ["string", "null"]}, "state": {"type": "string"},
                       "user_ids": _IDS, "chat_ids": _IDS,
                       "members": {"type": "object", "additionalProperties": {"type": "integer"},
                                   "description": "real member count per chat"}}}}},
    "WecomSettingsInput": {"type": "object", "additionalProperties": False,
                           "required": ["corp_id", "secret", "token", "encoding_aes_key"],
                           "properties": {
                               "corp_id": {"type": "string", "maxLength": 64},
                               "secret": {"type": "string", "maxLength": 128,
                                          "description": "the 客户联系 (or self-built app) secret; "
                                                         "stored encrypted, never returned"},
                               "agent_id": {"type": ["integer", "null"]},
                               "token": {"type": "string", "pattern": "^[A-Za-z0-9]{1,32}$",
                                         "description": "the callback Token"},
                               "encoding_aes_key": {"type": "string",
                                                    "pattern": "^[A-Za-z0-9+/]{43}$"},
                               "verify": {"type": "boolean", "default": True,
                                          "description": "check corp id and secret with gettoken"}}},
    "WecomSettings": {"type": "object", "required": ["configured", "callback_url"], "properties": {
        "configured": {"type": "boolean"}, "corp_id": {"type": "string"},
        "agent_id": {"type": ["integer", "null"]}, "secret_set": {"type": "boolean"},
        "token_set": {"type": "boolean"}, "encoding_aes_key_set": {"type": "boolean"},
        "callback_url": {"type": "string", "description": "paste into 接收事件服务器 → URL"},
        "created_at": _TIME, "updated_at": _TIME}},
    "WecomHealth": {"type": "object", "required": ["configured", "token", "last_callback_at"],
                    "properties": {
        "configured": {"type": "boolean"},
        "token": {"type": "object", "properties": {
            "status": {"enum": ["valid", "expired", "none"], "description":
                       "none: not fetched yet (it is on first use) or fetched for other credentials"},
            "expires_at": {"type": ["string", "null"], "format": "date-time"}}},
        "last_callback_at": {"type": ["string", "null"], "format": "date-time",
                             "description": "a verified callback last handled (to the minute)"}}},
    "WecomContact": {"type": "object", "description": _CONTACT, "properties": {
        "external_userid": {"type": "string"},
        "user_id": {"type": ["string", "null"], "description": "the audience user (GET /v1/users/{id})"},
        "channel": {"type": ["string", "null"]}, "code_id": {"type": ["string", "null"]},
        "target_id": {"type": ["string", "null"]}, "status": {"enum": ["active", "removed", None]},
        "staff": {"type": "array", "items": {"type": "string"}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "created_at": {"type": ["string", "null"]}, "updated_at": {"type": ["string", "null"]},
        "events": {"type": "array", "items": {"type": "object", "properties": {
            "type": {"type": "string"}, "at": _TIME, "properties": {"type": "object"}}}}}},
    "WecomLiveCodeStats": {"type": "object", "properties": {
        "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
        "timezone": {"type": "string"}, "adds": {"type": "integer"}, "removals": {"type": "integer"},
        "group_joins": {"type": "integer"},
        "targets": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "adds": {"type": "integer"},
            "group_joins": {"type": "integer"}}}},
        "days": {"type": "array", "items": {"type": "object"}}}},
}
_TEXT = {"text/plain": {"schema": {"type": "string"}}}
_CALLBACK_QUERY = [query_param("msg_signature"), query_param("timestamp"), query_param("nonce")]
_TENANT = path_param("tenant_id", "the tenant the callback belongs to")
PATHS = {
    "/v1/integrations/wecom": {
        "put": op("Configure 企业微信", TAG, body=ref("WecomSettingsInput"),
                  response=ref("WecomSettings"), errors=(400, 422, 503)),
        "get": op("Get the 企业微信 settings", TAG, response=ref("WecomSettings"), errors=()),
        "delete": op("Remove the 企业微信 settings", TAG, ok=204, errors=(404,)),
    },
    "/v1/integrations/wecom/health": {"get": op(
        "Get the 企业微信 integration's health", TAG, response=ref("WecomHealth"), errors=(),
        description="The cached access token's state and the last callback; no call to 企业微信. "
                    "Problems (refused tokens, failed callbacks) are in GET /v1/alerts.")},
    "/v1/integrations/wecom/contacts/{external_userid}": {"get": op(
        "Get a 企业微信 contact's attribution", TAG, params=[path_param("external_userid")],
        response=ref("WecomContact"))},
    "/v1/integrations/wecom/livecodes/{code_id}/stats": {"get": op(
        "Get a live code's 企业微信 stats", TAG, response=ref("WecomLiveCodeStats"),
        params=[path_param("code_id"), query_param("from"), query_param("to")])},
    "/wecom/v1/callback/{tenant_id}": {
        "get": op("Verify the 企业微信 callback URL", TAG, auth=None, content=_TEXT,
                  errors=(400, 403, 404), params=[_TENANT, *_CALLBACK_QUERY, query_param("echostr")],
                  description="Answers the decrypted echostr after checking msg_signature."),
        "post": op("Receive a 企业微信 callback", TAG, auth=None, content=_TEXT, errors=(400, 403, 404),
                   params=[_TENANT, *_CALLBACK_QUERY],
                   description="Encrypted XML (WXBizMsgCrypt). Verified, decrypted, queued; answers "
                               "'success'. Duplicates are handled once."),
    },
}
