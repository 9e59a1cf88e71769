"""OpenAPI paths for members, sessions, invites, who-am-I and the audit log."""
from chalicelib.openapi import list_of, op, path_param, query_param, ref

TAG = "team"
_TIME = {"type": "string", "format": "date-time"}
_ROLE = {"enum": ["owner", "admin", "operator", "analyst"]}
_NULLABLE = {"type": ["string", "null"]}
SCHEMAS = {
    "Login": {"type": "object", "required": ["email", "password"], "additionalProperties": False,
              "properties": {"email": {"type": "string", "format": "email"},
                             "password": {"type": "string"},
                             "tenant_id": {"type": "string", "description": "needed only when the "
                                           "email belongs to several tenants (409 tenant-required "
                                           "lists them in error.tenants)"}}},
    "Refresh": {"type": "object", "required": ["refresh_token"], "additionalProperties": False,
                "properties": {"refresh_token": {"type": "string"}}},
    "Session": {"type": "object", "required": ["token", "expires_at", "refresh_token", "member",
                                               "tenant"], "properties": {
        "token": {"type": "string", "description": "access token (yts1...), 15 minutes: send as "
                  "Authorization: Bearer"},
        "token_type": {"const": "Bearer"}, "expires_at": _TIME,
        "refresh_token": {"type": "string", "description": "single use: each refresh answers a "
                          "new one; using an old one again revokes the session"},
        "refresh_expires_at": _TIME, "session_id": {"type": "string"},
        "member": {"type": "object", "properties": {
            "id": {"type": "string"}, "email": {"type": "string"}, "name": _NULLABLE,
            "role": _ROLE, "tenant_id": {"type": "string"}}},
        "tenant": {"$ref": "#/components/schemas/TenantSummary"}}},
    "TenantSummary": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "timezone": {"type": "string"}}},
    "Me": {"type": "object", "required": ["kind", "id", "role", "tenant"], "properties": {
        "kind": {"enum": ["member", "api_key"]}, "id": {"type": "string"},
        "email": {"type": "string"}, "name": _NULLABLE, "label": _NULLABLE,
        "session_id": {"type": "string"}, "role": _ROLE,
        "tenant": {"$ref": "#/components/schemas/TenantSummary"}}},
    "MePatch": {"type": "object", "additionalProperties": False, "properties": {
        "name": {"type": ["string", "null"], "maxLength": 100},
        "password": {"type": "string", "minLength": 10},
        "current_password": {"type": "string"}}},
    "Member": {"type": "object", "properties": {
        "id": {"type": "string"}, "email": {"type": "string"}, "name": _NULLABLE, "role": _ROLE,
        "status": {"enum": ["invited", "active", "disabled"]}, "tenant_id": {"type": "string"},
        "created_at": _TIME, "last_login_at": {"type": ["string", "null"], "format": "date-time"},
        "invite_expires_at": _TIME}},
    "NewMember": {"type": "object", "required": ["email", "role"], "additionalProperties": False,
                  "properties": {"email": {"type": "string", "format": "email"},
                                 "name": {"type": "string", "maxLength": 100}, "role": _ROLE}},
    "MemberPatch": {"type": "object", "additionalProperties": False, "properties": {
        "role": _ROLE, "name": {"type": ["string", "null"], "maxLength": 100},
        "disabled": {"type": "boolean"}}},
    "Invite": {"type": "object", "properties": {
        "member": {"$ref": "#/components/schemas/Member"},
        "invite_url": {"type": "string", "format": "uri"},
        "invite_token": {"type": "string", "description": "shown once; only its hash is stored"},
        "invite_expires_at": _TIME}},
    "AcceptInvite": {"type": "object", "required": ["password"], "additionalProperties": False,
                     "properties": {"password": {"type": "string", "minLength": 10},
                                    "name": {"type": "string", "maxLength": 100}}},
    "AuditEntry": {"type": "object", "properties": {
        "id": {"type": "string"}, "at": _TIME,
        "actor": {"type": "object", "properties": {
            "kind": {"enum": ["member", "api_key", "admin", "anonymous"]},
            "id": _NULLABLE, "email": {"type": "string"}, "label": {"type": "string"}}},
        "action": {"type": "string", "example": "POST /v1/livecodes"},
        "route": {"type": "string", "example": "/v1/livecodes/{code_id}"},
        "object": {"type": "object", "properties": {"type": _NULLABLE, "id": _NULLABLE}},
        "changed_fields": {"type": "array", "items": {"type": "string"},
                           "description": "names of the fields sent, never their values"},
        "status": {"type": "integer"}, "ip": _NULLABLE, "user_agent": _NULLABLE,
        "outcome": {"type": "string", "description": "failed-login, failed-login-locked, "
                    "login-refused-locked, refresh-reuse, ... (absent for plain changes)"}}},
}
_MEMBER_ID = [path_param("member_id")]
_LIST = [query_param("cursor"), query_param("limit", {"type": "integer", "minimum": 1,
                                                      "maximum": 100})]
PATHS = {
    "/v1/sessions": {
        "post": op("Log in", TAG, body=ref("Login"), ok=201, response=ref("Session"), auth=None,
                   errors=(400, 401, 409, 429),
                   description="The same 401 invalid-credentials for an unknown email, a wrong "
                   "password and a locked account (5 failures lock it for 15 minutes); "
                   "throttled per client IP."),
        "delete": op("Log out", TAG, ok=204, errors=(400,),
                     description="Ends the session of the access token sent; the token stops "
                     "working at once."),
    },
    "/v1/sessions/refresh": {"post": op(
        "Refresh a session", TAG, body=ref("Refresh"), ok=201, response=ref("Session"), auth=None,
        errors=(400, 401, 429))},
    "/v1/me": {
        "get": op("Who am I", TAG, response=ref("Me"), errors=()),
        "patch": op("Change my name or password", TAG, body=ref("MePatch"), response=ref("Member"),
                    errors=(400, 403),
                    description="Members only. A new password needs current_password (a wrong "
                    "one counts toward the lockout: 403 wrong-password) and ends the member's "
                    "other sessions."),
    },
    "/v1/members": {
        "get": op("List members", TAG, params=_LIST, response=list_of(ref("Member")), errors=(400,)),
        "post": op("Invite a member", TAG, body=ref("NewMember"), ok=201, response=ref("Invite"),
                   errors=(400, 403, 409)),
    },
    "/v1/members/{member_id}": {
        "get": op("Get a member", TAG, params=_MEMBER_ID, response=ref("Member")),
        "patch": op("Update a member", TAG, params=_MEMBER_ID, body=ref("MemberPatch"),
                    response=ref("Member"), errors=(400, 403, 404, 409),
                    description="Only an owner grants or changes the owner role; a tenant keeps "
                    "one active owner (409 last-owner). Disabling ends the member's sessions."),
        "delete": op("Remove a member", TAG, params=_MEMBER_ID, ok=204, errors=(403, 404, 409)),
    },
    "/v1/members/{member_id}/invite": {"post": op(
        "Send a new invite link", TAG, params=_MEMBER_ID, ok=201, response=ref("Invite"),
        errors=(403, 404, 409),
        description="For an invited member a new invite link; for an active member a password "
        "reset link (accepting it sets a new password and ends the member's sessions). The "
        "previous link stops working.")},
    "/v1/invites/{token}/accept": {"post": op(
        "Accept an invite", TAG, params=[path_param("token")], body=ref("AcceptInvite"), ok=201,
        response=ref("Session"), auth=None, errors=(400, 404, 410, 429),
        description="Sets the password (at least 10 characters) and logs in.")},
    "/v1/audit-log": {"get": op(
        "List the audit log", TAG, response=list_of(ref("AuditEntry")), errors=(400,),
        params=[query_param("actor", description="<kind>:<id> (member:…, api_key:…) or an id"),
                query_param("object_type"), query_param("object_id"),
                query_param("from", {"type": "string", "format": "date-time"}),
                query_param("to", {"type": "string", "format": "date-time"}),
                query_param("cursor"),
                query_param("limit", {"type": "integer", "minimum": 1, "maximum": 200})],
        description="Newest first. Every change to the tenant (2xx POST/PUT/PATCH/DELETE), "
        "logins and failed logins. Read-only: there is no way to edit or delete an entry.")},
}
