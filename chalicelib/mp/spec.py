"""OpenAPI paths for the mini-program API and the tenant's mini-program settings."""
from chalicelib.content.spec import QUERY
from chalicelib.openapi import list_of, op, path_param, query_param, ref

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
    "MpLink": {"type": "object", "properties": {
        "type": {"enum": ["url_link", "scheme"]},
        "link": {"type": "string", "description": "https://wxaurl.cn/... or weixin://dl/business/?t=..."},
        "expires_at": {"type": "string", "format": "date-time"},
        "page": {"type": ["string", "null"]},
        "query": {"type": "string", "description": "scene=<scene>: resolve it with GET /mp/v1/scene/{scene}"},
        "env_version": {"enum": ["release", "trial", "develop"]},
        "created_at": {"type": "string", "format": "date-time"},
        "reused": {"type": "boolean", "description": "an earlier link with enough life left"}}},
    "MpScene": {"type": "object", "properties": {
        "kind": {"enum": ["livecode", "participant"]}, "livecode_id": {"type": "string"},
        "slug": {"type": "string"}, "scan_url": {"type": "string"},
        "ref": {"type": ["string", "null"], "description": "the participant's referral: pass it "
                                                           "as ?ref= when scanning the slug"},
        "task_id": {"type": "string"}, "participant_id": {"type": "string"},
        "nickname": {"type": "string"}}},
}
_PAGE = query_param("page", description="a published page, e.g. pages/index/index (default: home)")
_ENV = query_param("env_version", {"enum": ["release", "trial", "develop"]})
_CODE_PARAMS = [_PAGE, query_param("width", {"type": "integer", "minimum": 280, "maximum": 1280}), _ENV,
                query_param("check_path", {"enum": ["true", "false"]},
                            "false: allow an unpublished page (WeChat's check_path)")]
_LINK_PARAMS = [query_param("type", {"enum": ["url_link", "scheme"]}, "default url_link"), _PAGE, _ENV,
                query_param("expire_days", {"type": "integer", "minimum": 1, "maximum": 30},
                            "default 30 (WeChat's maximum)")]
_WXACODE = {"image/png": {"schema": {"type": "string", "format": "binary"}},
            "image/jpeg": {"schema": {"type": "string", "format": "binary"}}}
_WXA_ERRORS = (400, 404, 409, 502, 503)
_WXA_NOTE = ("409 mp-not-configured when the tenant has no mini-program (PUT /v1/mp/settings); "
             "502 wechat-rejected / 503 wechat-unavailable carry WeChat's `errcode` and `errmsg`.")
_LC = path_param("code_id", "live code id")
_TASK, _PID = path_param("task_id", "fission task id"), path_param("participant_id", "participant id")


def _wxacode(what: str, params: list) -> dict:
    return {"get": op(
        f"Get the mini-program code of a {what}", TAG, params=params + _CODE_PARAMS, content=_WXACODE,
        errors=_WXA_ERRORS, description="The 小程序码 (wxa/getwxacodeunlimit) whose scene the "
        "mini-program resolves with GET /mp/v1/scene/{scene}; cached in S3 per option set, so "
        "WeChat is asked once. Send `Accept: image/png`. " + _WXA_NOTE)}


def _mp_link(what: str, params: list) -> dict:
    return {"get": op(
        f"Get a mini-program link of a {what}", TAG, params=params + _LINK_PARAMS,
        response=ref("MpLink"), errors=_WXA_ERRORS, description="A URL Link "
        "(wxa/generate_urllink) or URL Scheme (wxa/generatescheme) opening the mini-program with "
        "query scene=<scene>, expiring after expire_days. A kept link is answered again while at "
        "least half of the requested lifetime is left. " + _WXA_NOTE)}


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
    "/v1/livecodes/{code_id}/wxacode": _wxacode("live code", [_LC]),
    "/v1/livecodes/{code_id}/mp-link": _mp_link("live code", [_LC]),
    "/v1/fission-tasks/{task_id}/participants/{participant_id}/wxacode":
        _wxacode("participant", [_TASK, _PID]),
    "/v1/fission-tasks/{task_id}/participants/{participant_id}/mp-link":
        _mp_link("participant", [_TASK, _PID]),
    "/mp/v1/scene/{scene}": {"get": op(
        "Resolve a mini-program scene", TAG, auth="mpToken", response=ref("MpScene"),
        params=[path_param("scene", "decodeURIComponent(query.scene) of the page's onLoad")],
        errors=(404,), description="The live code or participant behind a 小程序码 or link of "
        "this tenant; then scan it: GET /s/{slug}?ref=<ref> with Accept: application/json and "
        "the mini-program token (a known visitor). 404 scene-not-found otherwise.")},
}
