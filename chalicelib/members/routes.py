"""Members, sessions (login, refresh, logout), who am I, invites and the audit log.

Who may call each route is decided by chalicelib/members/policy.py (the auth middleware), not here.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib import validate as v
from chalicelib.error_codes import NOT_A_SESSION
from chalicelib.http import client_ip, created, header, json_body, json_response, no_content, query
from chalicelib.lazy import lazy
from chalicelib.web import Routes, actor, role, tenant_id

routes = Routes(__name__)
if TYPE_CHECKING:  # the edges, for readers and mypy; at run time each loads on first use
    from chalicelib.members import audit, service, sessions
else:
    audit = lazy("chalicelib.members.audit")
    service = lazy("chalicelib.members.service")
    sessions = lazy("chalicelib.members.sessions")


def _client(request: Any) -> tuple[str, str]:
    return client_ip(request), header(request, "User-Agent")


def _actor(request: Any) -> Any:
    who = actor(request)
    return service.Actor(who.get("kind", ""), who.get("id", ""), role(request))


@routes.route("/v1/sessions", methods=["POST"])
def create_session():
    request = routes.current_request
    ip, agent = _client(request)
    return created(sessions.login(json_body(request), ip, agent, audit.note(request)))


@routes.route("/v1/sessions/refresh", methods=["POST"])
def refresh_session():
    request = routes.current_request
    ip, _ = _client(request)
    return created(sessions.refresh(json_body(request), ip, audit.note(request)))


@routes.route("/v1/sessions", methods=["DELETE"])
def delete_session():
    request = routes.current_request
    who = actor(request)
    if who.get("kind") != "member":
        from chalicelib.errors import ValidationFailed

        raise ValidationFailed("DELETE /v1/sessions ends a member's session: call it with the "
                               "member's access token (API keys are revoked with "
                               "DELETE /v1/api-keys/{key})", code=NOT_A_SESSION)
    sessions.logout(sessions.MemberIdentity(tenant_id(request), who["id"], who["session_id"],
                                            role(request), who.get("email", ""), who.get("name")))
    audit.note(request)["object"] = {"type": "session", "id": who["session_id"]}
    return no_content()


@routes.route("/v1/me", methods=["GET"])
def get_me():
    from chalicelib.auth import service as auth

    request = routes.current_request
    who = actor(request)
    tenant = auth.get_tenant(tenant_id(request))
    answer = {"kind": who.get("kind"), "id": who.get("id"), "role": role(request),
              "tenant": {"id": tenant.tenant_id, "name": tenant.name, "timezone": tenant.timezone}}
    for field in ("email", "name", "label", "session_id"):
        if field in who:
            answer[field] = who[field]
    return json_response(answer)


@routes.route("/v1/me", methods=["PATCH"])
def update_me():
    request = routes.current_request
    who = actor(request)
    if who.get("kind") != "member":
        from chalicelib.errors import ValidationFailed

        raise ValidationFailed("PATCH /v1/me changes a member's own name or password: call it with "
                               "the member's access token", code=NOT_A_SESSION)
    identity = sessions.MemberIdentity(tenant_id(request), who["id"], who["session_id"],
                                       role(request), who.get("email", ""), who.get("name"))
    member = sessions.change_own(identity, json_body(request), audit.note(request))
    audit.note(request)["object"] = {"type": "member", "id": member.member_id}
    return json_response(service.view(service.get_member(member.tenant_id, member.member_id)))


@routes.route("/v1/members", methods=["GET"])
def list_members():
    request = routes.current_request
    params = query(request)
    return json_response(service.list_members(tenant_id(request), v.page_limit(params),
                                              params.get("cursor")))


@routes.route("/v1/members", methods=["POST"])
def invite_member():
    request = routes.current_request
    who = _actor(request)
    return created(service.invite(tenant_id(request), json_body(request), who.role, who.id))


@routes.route("/v1/members/{member_id}", methods=["GET"])
def get_member(member_id):
    return json_response(service.view(service.get_member(tenant_id(routes.current_request),
                                                         member_id)))


@routes.route("/v1/members/{member_id}", methods=["PATCH"])
def update_member(member_id):
    request = routes.current_request
    return json_response(service.update_member(tenant_id(request), member_id, json_body(request),
                                               _actor(request)))


@routes.route("/v1/members/{member_id}", methods=["DELETE"])
def remove_member(member_id):
    request = routes.current_request
    service.remove_member(tenant_id(request), member_id, _actor(request))
    return no_content()


@routes.route("/v1/members/{member_id}/invite", methods=["POST"])
def reissue_invite(member_id):
    request = routes.current_request
    return created(service.reissue_invite(tenant_id(request), member_id, _actor(request)))


@routes.route("/v1/invites/{token}/accept", methods=["POST"])
def accept_invite(token):
    request = routes.current_request
    ip, agent = _client(request)
    sessions.throttle(ip)
    member = service.accept_invite(token, json_body(request))
    noted = audit.note(request)
    answer = sessions.open_session(member, ip, agent, noted)
    noted.update(object={"type": "member", "id": member.member_id},
                 changed_fields=audit.changed_fields(request.raw_body))
    return created(answer)


@routes.route("/v1/audit-log", methods=["GET"])
def list_audit_log():
    request = routes.current_request
    params = query(request)
    v.only_keys(params, {"actor", "object_type", "object_id", "from", "to", "cursor", "limit"},
                where="query")
    return json_response(audit.query(tenant_id(request), params, v.page_limit(params, 50, 200)))
