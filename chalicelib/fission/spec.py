"""OpenAPI paths for fission tasks, participants, leaderboard, rewards, the participant pages and
the mini-program user's own participation."""
from chalicelib.openapi import list_of, op, path_param, query_param, ref

TAG = "fission"
_TIME = {"type": ["string", "null"], "format": "date-time"}
_INT = {"type": "integer"}
_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
SCHEMAS = {
    "FissionTaskInput": {"type": "object", "additionalProperties": False, "properties": {
        "name": {"type": "string", "maxLength": 100}, "livecode_id": _STR, "template_id": _STR,
        "goal": {"type": "integer", "minimum": 1, "maximum": 10000,
                 "description": "invites needed for the reward"},
        "reward": {"type": "object", "additionalProperties": False, "properties": {
            "message": {"type": "string", "maxLength": 500,
                        "description": "the reward message; `{nickname}` and `{code}` are filled "
                                       "in per participant when the reward is granted"},
            "notice_channel": {"enum": ["outbox", "webhook", "wecom"], "default": "outbox",
                               "description": "campaign channel the reward notice goes out through "
                                              "(the channel at grant time is used)"},
            "codes": {"type": "array", "maxItems": 1000, "items": {"type": "string", "maxLength": 128},
                      "description": "reward code pool (create only; add more with POST "
                                     "…/reward-codes); each code goes to at most one participant"},
            "coupon_pool_id": {"type": "string", "description": "instead of codes: the reward's "
                               "{code} is granted from this coupon pool (/v1/coupons), once per "
                               "participant (create only)"}}},
        "starts_at": _TIME, "ends_at": _TIME},
        "description": "PATCH accepts name, template_id, reward.message, reward.notice_channel "
                       "and ends_at at any time; "
                       "goal, starts_at and livecode_id only before the task starts."},
    "FissionTask": {"type": "object", "properties": {
        "id": _STR, "name": _STR, "livecode_id": _STR, "template_id": _STR, "goal": _INT,
        "reward": {"type": "object", "properties": {
            "message": _NSTR, "codes_total": _INT, "codes_issued": _INT, "codes_left": _INT,
            "notice_channel": {"enum": ["outbox", "webhook", "wecom"]},
            "coupon_pool_id": _NSTR}},
        "starts_at": {"type": "string", "format": "date-time"}, "ends_at": _TIME,
        "status": {"enum": ["scheduled", "active", "ended"]}, "scan_url": _STR,
        "participants": _INT, "invites": _INT, "rewards": _INT,
        "created_at": _STR, "updated_at": _STR}},
    "ParticipantInput": {"type": "object", "additionalProperties": False, "required": ["nickname"],
                         "description": "The same user_id (else openid) always maps to the same "
                                        "participant: registering again refreshes nickname/avatar "
                                        "and answers 200.",
                         "properties": {
        "user_id": {"type": "string", "maxLength": 128}, "openid": {"type": "string", "maxLength": 128},
        "nickname": {"type": "string", "maxLength": 64},
        "avatar": {"type": "string", "description": "base64 PNG/JPEG"}}},
    "Participant": {"type": "object", "required": ["participant_id", "ref", "poster_url", "invite_url"],
                    "properties": {
        "participant_id": _STR,
        "ref": {"type": "string", "description": "unguessable referral carried by the invite URL"},
        "invite_url": {"type": "string", "description": "the live code's scan URL with ?ref="},
        "poster_url": {"type": "string", "description": "the participant's poster (JPEG, public, "
                                                        "unguessable; rendered once, then cached)"},
        "progress_url": {"type": "string", "description": "the participant's own page (private)"},
        "nickname": _STR, "avatar_url": _NSTR, "user_id": _NSTR, "openid": _NSTR,
        "suspicious": {"type": ["object", "null"], "description": "set when invite counting "
                       "refused invites at a daily ceiling (docs/security.md)", "properties": {
                           "reason": {"enum": ["ip_daily_ceiling", "participant_daily_ceiling"]},
                           "at": {"type": ["string", "null"], "format": "date-time"}}},
        "invites": _INT, "goal": _INT, "remaining": _INT, "rewarded": {"type": "boolean"},
        "rewarded_at": _TIME, "reward_code": _NSTR, "created_at": _STR}},
    "Leaderboard": {"type": "object", "properties": {
        "items": {"type": "array", "items": {"type": "object", "properties": {
            "rank": _INT, "participant_id": _STR, "nickname": _STR, "avatar_url": _NSTR,
            "invites": _INT, "rewarded": {"type": "boolean"}}}},
        "goal": _INT, "next_cursor": {"type": "null"}}},
    "RewardNotice": {"type": "object", "properties": {
        "participant_id": _STR, "nickname": _STR, "user_id": _NSTR, "openid": _NSTR,
        "invites": _INT, "message": _NSTR, "code": _NSTR,
        "note": {"type": ["string", "null"], "description": "codes-exhausted when the pool ran out"},
        "notice": {"enum": ["pending", "sending", "sent", "skipped", "failed"],
                   "description": "delivery of the reward notice through `notice_channel`, once"},
        "notice_channel": {"enum": ["outbox", "webhook", "wecom"]},
        "notice_reason": {"type": ["string", "null"], "description":
                          "why skipped or failed: no_user, no_identity_for_channel, unsubscribed, "
                          "no_webhook_url, http_<status>, unreachable, wecom_unreachable, "
                          "wecom_errcode_<n>, wecom_not_configured, outcome_unknown; `retrying` "
                          "while pending again after a retryable error"},
        "notice_detail": _NSTR,
        "notice_user_id": {"type": ["string", "null"], "description": "the user it was addressed to"},
        "notice_at": _TIME, "rewarded_at": _STR}},
    "MpJoinInput": {"type": "object", "additionalProperties": False, "required": ["nickname"],
                    "properties": {"nickname": {"type": "string", "maxLength": 64},
                                   "avatar": {"type": "string", "description": "base64 PNG/JPEG"}}},
    "MyParticipation": {"allOf": [ref("Participant"), {"type": "object", "properties": {
        "task": {"type": "object", "properties": {
            "id": _STR, "name": _STR, "goal": _INT, "status": _STR, "starts_at": _STR,
            "ends_at": _TIME}},
        "reward": {"type": ["object", "null"], "properties": {
            "message": _NSTR, "code": _NSTR, "rewarded_at": _STR}},
        "rank": {"type": ["integer", "null"],
                 "description": "1 + participants with more invites (ties share a rank); null "
                                "beyond the top 100"}}}]},
    "FissionStats": {"type": "object", "properties": {
        "participants": _INT, "scans": _INT, "new_visitors": _INT, "invites": _INT, "rewards": _INT,
        "not_counted": {"type": "object", "additionalProperties": _INT},
        "codes": {"type": "object", "properties": {"total": _INT, "issued": _INT, "left": _INT}},
        "funnel": {"type": "array", "items": {"type": "object", "properties": {
            "step": {"enum": ["scan", "new_visitor", "invite_counted", "reward_granted"]},
            "count": _INT}}}}},
    "RewardCodesInput": {"type": "object", "required": ["codes"], "additionalProperties": False,
                         "properties": {"codes": {"type": "array", "maxItems": 1000,
                                                  "items": {"type": "string", "maxLength": 128}}}},
    "RewardCodesAdded": {"type": "object", "properties": {
        "added": _INT, "codes_total": _INT, "codes_issued": _INT}},
    "RewardCode": {"type": "object", "properties": {
        "n": _INT, "code": _STR, "participant_id": _NSTR, "claimed_at": _TIME}},
    "Progress": {"type": "object", "properties": {
        "task": {"type": "object", "properties": {
            "id": _STR, "name": _STR, "goal": _INT, "status": _STR, "starts_at": _STR,
            "ends_at": _TIME}},
        "participant_id": _STR, "nickname": _STR, "invites": _INT, "remaining": _INT,
        "rewarded": {"type": "boolean"},
        "reward": {"type": ["object", "null"], "properties": {
            "message": _NSTR, "code": _NSTR, "rewarded_at": _STR}},
        "invite_url": _STR, "poster_url": _STR}},
}
_ID = path_param("task_id", "fission task id")
_PID = path_param("participant_id")
_KEY = path_param("key", "the participant's private key (from progress_url / poster_url)")
_PAGE = [query_param("limit", {"type": "integer", "minimum": 1, "maximum": 100}),
         query_param("cursor")]
_JPEG = {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}
PATHS = {
    "/v1/fission-tasks": {
        "post": op("Create a fission task", TAG, body=ref("FissionTaskInput"), ok=201,
                   response=ref("FissionTask")),
        "get": op("List fission tasks", TAG, response=list_of(ref("FissionTask")), params=_PAGE),
    },
    "/v1/fission-tasks/{task_id}": {
        "get": op("Get a fission task", TAG, params=[_ID], response=ref("FissionTask")),
        "patch": op("Update a fission task", TAG, params=[_ID], body=ref("FissionTaskInput"),
                    response=ref("FissionTask"), errors=(400, 404, 409)),
        "delete": op("Delete a fission task", TAG, params=[_ID], ok=204,
                     description="Also deletes its participants, invites and reward codes."),
    },
    "/v1/fission-tasks/{task_id}/participants": {
        "post": op("Register a participant", TAG, params=[_ID], body=ref("ParticipantInput"), ok=201,
                   response=ref("Participant"), errors=(400, 404, 409, 413),
                   description="201 for a new participant, 200 for a known user_id/openid; "
                               "409 `task-ended` after the task's end."),
        "get": op("List participants", TAG, response=list_of(ref("Participant")), params=[
            _ID, *_PAGE, query_param("suspicious", {"type": "boolean"},
                                     "true: only participants flagged by anti-farming")]),
    },
    "/v1/fission-tasks/{task_id}/participants/{participant_id}": {
        "get": op("Get a participant", TAG, params=[_ID, _PID], response=ref("Participant")),
    },
    "/v1/fission-tasks/{task_id}/leaderboard": {
        "get": op("Get the leaderboard", TAG, response=ref("Leaderboard"),
                  params=[_ID, query_param("limit", {"type": "integer", "minimum": 1, "maximum": 100,
                                                      "default": 10})],
                  description="Top participants by invites counted (ties in no fixed order)."),
    },
    "/v1/fission-tasks/{task_id}/rewards": {
        "get": op("List reward notices", TAG, params=[_ID, *_PAGE],
                  response=list_of(ref("RewardNotice")),
                  description="Rewards granted, newest first; each waits (`notice: pending`) "
                              "for delivery by campaign channels."),
    },
    "/v1/fission-tasks/{task_id}/stats": {
        "get": op("Get fission task stats", TAG, params=[_ID], response=ref("FissionStats")),
    },
    "/v1/fission-tasks/{task_id}/reward-codes": {
        "post": op("Add reward codes", TAG, params=[_ID], body=ref("RewardCodesInput"), ok=201,
                   response=ref("RewardCodesAdded"), errors=(400, 404, 409)),
        "get": op("List reward codes", TAG, params=[_ID, *_PAGE], response=list_of(ref("RewardCode"))),
    },
    "/mp/v1/fission-tasks/{task_id}/join": {
        "post": op("Join a fission task from the mini-program", TAG, auth="mpToken", params=[_ID],
                   body=ref("MpJoinInput"), ok=201, response=ref("Participant"),
                   errors=(400, 401, 404, 409, 413),
                   description="Registers the logged-in user (the participant's user_id is the "
                               "mini-program user): 201 the first time, 200 with the same "
                               "participant (nickname/avatar refreshed) after that; 409 "
                               "`task-ended`. Scans carrying this user's mini-program token never "
                               "count as their own invites; a browser becomes their own device "
                               "when it opens `progress_url`."),
    },
    "/mp/v1/fission-tasks/{task_id}/me": {
        "get": op("Get my fission task progress", TAG, auth="mpToken", params=[_ID],
                  response=ref("MyParticipation"), errors=(401, 404),
                  description="The logged-in user's participant: invites, goal, reward and code "
                              "once granted, poster and invite URLs, rank. 404 `not-participating` "
                              "before joining, `task-not-found` for a task of another tenant."),
    },
    "/p/{key}": {
        "get": op("Get a participant's own progress", TAG, params=[_KEY], auth=None,
                  errors=(404,), response=ref("Progress"),
                  description="The participant's page (HTML; JSON with `Accept: application/json`, "
                              "for mini-programs and H5). Opening it marks the device as the "
                              "participant's own (visit cookie of the task's live code): scans of "
                              "their own poster from it never count as invites."),
    },
    "/p/{key}/poster": {
        "get": op("Get a participant's poster", TAG, params=[_KEY], auth=None, errors=(404, 409),
                  content=_JPEG,
                  description="JPEG, rendered on first request and cached in S3 by a hash of its "
                              "inputs; ≤ 2 AWS calls when cached."),
    },
}
