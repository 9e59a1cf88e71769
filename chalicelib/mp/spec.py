"""OpenAPI paths for the mini-program API and the tenant's mini-program settings."""
from chalicelib.content.spec import QUERY
from chalicelib.openapi import list_of, op, path_param, ref

TAG = "mini-program"
_CID = path_param("content_id", "content item id")
SCHEMAS = {
    "MpLogin": {"type": "object", "required": ["tenant", "code"], "additionalProperties": False,
                "properties": {"tenant": {"type": "string", "description": "tenant id"},
                               "code": {"type": "string", "description": "from wx.login()"}}},
    "MpSession": {"type": "object", "properties": {
        "token": {"type": "string", "description": "Authorization: Bearer <token> for /mp/v1"},
        "user_id": {"type": "string"}, "created": {"type": "boolean"},
        "expires_at": {"type": "string", "format": "date-time"}}},
    "MpProfile": {"type": "object", "properties": {
        "id": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
        "tag_details": {"type": "object"}, "stage": {"type": "string"},
        "first_seen_at": {"type": ["string", "null"]}, "last_active_at": {"type": ["string", "null"]},
        "created_at": {"type": ["string", "null"]}}},
    "MpSettings": {"type": "object", "properties": {
        "appid": {"type": ["string", "null"]}, "configured": {"type": "boolean"},
        "source": {"enum": ["tenant", "default", None]}}},
}
PATHS = {
    "/mp/v1/login": {"post": op(
        "Log a mini-program user in", TAG, auth=None, body=ref("MpLogin"), response=ref("MpSession"),
        errors=(400, 401, 404, 409, 429, 502, 503),
        description="Exchanges the wx.login code through code2session; the user is found or "
                    "created by openid/unionid (merging users a unionid proves are one).")},
    "/mp/v1/me": {"get": op("Get my profile", TAG, auth="mpToken", response=ref("MpProfile"),
                            errors=(404,))},
    "/mp/v1/contents": {"get": op("List content (mini-program)", TAG, auth="mpToken", params=QUERY,
                                  response=list_of(ref("Content")), errors=(400,))},
    "/mp/v1/contents/{content_id}": {"get": op(
        "Get a content item (mini-program)", TAG, auth="mpToken", params=[_CID],
        response=ref("Content"))},
    "/mp/v1/contents/{content_id}/events": {"post": op(
        "Report behaviour on a content item", TAG, auth="mpToken", params=[_CID], ok=202,
        body={"type": "object", "required": ["type"], "additionalProperties": False,
              "properties": {"type": {"enum": ["view", "click", "favorite", "share"]}}},
        response={"type": "object", "properties": {"accepted": {"type": "boolean"}}},
        description="Counts the item's counter; click, share and favorite add the item's tags "
                    "to the user as interest tags with weights 1, 2 and 3.")},
    "/v1/mp/settings": {
        "get": op("Get the mini-program settings", TAG, response=ref("MpSettings"), errors=()),
        "put": op("Set the mini-program appid and secret", TAG, response=ref("MpSettings"),
                  errors=(400,), body={"type": "object", "required": ["appid", "secret"],
                                       "additionalProperties": False, "properties": {
                                           "appid": {"type": "string"},
                                           "secret": {"type": "string", "writeOnly": True}}}),
    },
}
