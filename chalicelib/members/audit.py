"""The audit log: written by one middleware for every change, read by ``GET /v1/audit-log``.

What is recorded: every 2xx answer to a POST/PUT/PATCH/DELETE under ``/v1/`` and ``/admin/``, and
logins, failed logins, refresh-token replays (whatever a service notes in ``request.context`` under
``yutang_audit`` — see :func:`note`). Who: the member (id, email) or API key (id, label) that
authenticated the request, or the platform admin. What: the action (``POST /v1/livecodes``), the
route template, the object (type and id, from the route or the created item) and the names of the
fields the request sent — never their values, so passwords, secrets and personal data stay out.
From where: the client IP and User-Agent. Entries are written once (attribute_not_exists) and
nothing updates or deletes them.
"""
from __future__ import annotations

import json
import logging
import re
from typing import Any

from chalicelib import clock
from chalicelib.error_codes import INVALID_CURSOR
from chalicelib.errors import ValidationFailed
from chalicelib.ids import new_id

log = logging.getLogger("yutang")
MUTATIONS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SECRET_PARAMS = frozenset({"token"})  # path parameters that are credentials: never recorded
MAX_FIELDS = 50
ENTRY_ID = re.compile(r"^\d{13}-[23456789abcdefghijkmnpqrstuvwxyz]{8}$")
SINGULAR = {"livecodes": "livecode", "contents": "content", "users": "user", "tags": "tag",
            "events": "event", "campaigns": "campaign", "fission-tasks": "fission-task",
            "participants": "participant", "reward-codes": "reward-code",
            "poster-templates": "poster-template", "api-keys": "api-key", "members": "member",
            "sessions": "session", "invites": "invite", "tenants": "tenant", "targets": "target",
            "exports": "export", "imports": "import", "journeys": "journey",
            "webhook-subscriptions": "webhook-subscription"}
CHILD_COLLECTIONS = frozenset({"targets", "participants"})  # POST .../{id}/targets creates a target


def note(request: Any) -> dict:
    """The request's audit note: services fill in what only they know (the member behind a
    login, the outcome of a refused one, the object of a public route)."""
    context = request.context if request.context is not None else {}
    return context.setdefault("yutang_audit", {})


def should_record(method: str, path: str, status: int, noted: dict) -> bool:
    if not path.startswith(("/v1/", "/admin/")):
        return False
    if noted.get("outcome"):
        return True  # refused logins, replayed refresh tokens
    return method in MUTATIONS and 200 <= status < 300


def _singular(segment: str) -> str:
    return SINGULAR.get(segment, segment[:-1] if segment.endswith("s") else segment)


def object_of(template: str, params: dict, answer: Any) -> tuple[str | None, str | None]:
    """(type, id) of what a mutation touched, from its route template and its answer (pure)."""
    parts = [p for p in template.strip("/").split("/") if p not in ("admin", "v1")]
    answer = answer if isinstance(answer, dict) else {}
    names = [i for i, p in enumerate(parts) if p.startswith("{")]
    if names and names[-1] == len(parts) - 1:  # /v1/livecodes/{code_id}
        name = parts[-1][1:-1]
        if name in SECRET_PARAMS:
            return _singular(parts[-2]), None
        return _singular(parts[-2]), params.get(name)
    last = parts[-1] if parts else ""
    if names:  # /v1/livecodes/{code_id}/targets, /v1/campaigns/{campaign_id}/run
        if last in CHILD_COLLECTIONS and isinstance(answer.get("id"), str):
            return _singular(last), answer["id"]
        name = parts[names[-1]][1:-1]
        parent = parts[names[-1] - 1] if names[-1] > 0 else last
        return _singular(parent), None if name in SECRET_PARAMS else params.get(name)
    kind = _singular(last)
    for key in ("id", f"{kind.replace('-', '_')}_id"):  # a create: the new item's id
        if isinstance(answer.get(key), str):
            return kind, answer[key]
    return "-".join(parts) or None, None  # a singleton: /v1/tenant, /v1/audience/settings


def changed_fields(raw_body: str | bytes | None) -> list[str]:
    """The top-level field names of a JSON object body (names only, never values)."""
    if not raw_body or len(raw_body) > 8 * 1024 * 1024:
        return []
    try:
        body = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(body, dict):
        return []
    return sorted(str(k)[:64] for k in body)[:MAX_FIELDS]


def _answer_json(response: Any) -> Any:
    body = response.body
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", "replace")
    if not isinstance(body, str) or not body.startswith("{") or len(body) > 1_000_000:
        return body if isinstance(body, dict) else None
    try:
        return json.loads(body)
    except ValueError:
        return None


def record(request: Any, response: Any) -> None:
    """Writes the entry for one request, if it is one to record."""
    from chalicelib.http import header

    context = request.context or {}
    noted = context.get("yutang_audit") or {}
    path, method, status = request.path or "", request.method, response.status_code
    if not should_record(method, path, status, noted):
        return
    answer = _answer_json(response)
    tenant_id = noted.get("tenant_id") or context.get("yutang_tenant_id")
    if not tenant_id and path.startswith("/admin/") and isinstance(answer, dict):
        tenant_id = answer.get("tenant_id")
    if not tenant_id:
        return  # e.g. a login for an unknown email: there is no tenant to file it under
    actor = noted.get("actor") or context.get("yutang_actor") or (
        {"kind": "admin", "id": "admin-key"} if path.startswith("/admin/") else
        {"kind": "anonymous", "id": None})
    if "object" in noted:
        object_type, object_id = noted["object"]["type"], noted["object"]["id"]
    else:
        object_type, object_id = object_of(path, request.uri_params or {}, answer)
    fields = noted["changed_fields"] if "changed_fields" in noted else changed_fields(
        request.raw_body if method != "DELETE" else None)
    write(tenant_id, actor=actor, action=f"{method} {_concrete(path, request.uri_params or {})}",
          route=path, object_type=object_type, object_id=object_id, fields=fields, status=status,
          ip=_ip(request),
          user_agent=header(request, "User-Agent")[:256] or None, outcome=noted.get("outcome"))


def _ip(request: Any) -> str | None:
    from chalicelib.http import client_ip

    address = client_ip(request)
    return None if address in ("", "-") else address


def _concrete(template: str, params: dict) -> str:
    """The action names the route as called, except path parameters that are credentials."""
    def fill(match: re.Match) -> str:
        name = match.group(1)
        return match.group(0) if name in SECRET_PARAMS else str(params.get(name, match.group(0)))
    return re.sub(r"{(\w+)}", fill, template)


def write(tenant_id: str, *, actor: dict, action: str, route: str, object_type: str | None,
          object_id: str | None, fields: list[str], status: int, ip: str | None,
          user_agent: str | None, outcome: str | None = None) -> str:
    from chalicelib.members.models import AuditEntry

    at = clock.now()
    entry_id = f"{int(at.timestamp() * 1000):013d}-{new_id(8)}"
    entry = AuditEntry(
        tenant_id=tenant_id, entry_id=entry_id, at=at, actor_kind=actor.get("kind") or "anonymous",
        actor_id=actor.get("id"), actor_name=actor.get("email") or actor.get("label"),
        actor_key=f"{tenant_id}#{actor.get('kind')}#{actor.get('id')}", action=action[:300],
        route=route, object_type=object_type, object_id=object_id,
        object_key=f"{tenant_id}#{object_type}#{object_id}" if object_type and object_id else None,
        changed_fields=fields, status=status, ip=ip, user_agent=user_agent, outcome=outcome)
    entry.save(condition=AuditEntry.entry_id.does_not_exist())
    return entry_id


def view(entry: Any) -> dict:
    actor: dict[str, Any] = {"kind": entry.actor_kind, "id": entry.actor_id}
    if entry.actor_name:
        actor["email" if entry.actor_kind == "member" else "label"] = entry.actor_name
    answer = {"id": entry.entry_id, "at": entry.at.isoformat(), "actor": actor,
              "action": entry.action, "route": entry.route,
              "object": {"type": entry.object_type, "id": entry.object_id},
              "changed_fields": list(entry.changed_fields or []), "status": int(entry.status),
              "ip": entry.ip, "user_agent": entry.user_agent}
    if entry.outcome:
        answer["outcome"] = entry.outcome
    return answer


def _bound(params: dict, key: str, end: bool) -> str | None:
    from chalicelib import validate as v

    moment = v.timestamp(params, key)
    if moment is None:
        return None
    return f"{int(moment.timestamp() * 1000):013d}" + ("~" if end else "")


def query(tenant_id: str, params: dict, limit: int) -> dict:
    """Newest first; ``actor`` is ``<kind>:<id>`` (e.g. ``member:abc…``) or a bare id."""
    from chalicelib.members.models import AuditEntry

    low, high = _bound(params, "from", False), _bound(params, "to", True)
    range_cond = None
    if low or high:
        range_cond = AuditEntry.entry_id.between(low or "0", high or "9999999999999~")
    cursor = params.get("cursor")
    if cursor and not ENTRY_ID.match(cursor):
        raise ValidationFailed("invalid cursor", code=INVALID_CURSOR, field="cursor")
    actor, object_type, object_id = (params.get(k) or None for k in ("actor", "object_type",
                                                                       "object_id"))
    actor_kind, _, actor_id = actor.rpartition(":") if actor else ("", "", "")
    filters = []
    index: Any
    if object_type and object_id:
        index, hash_value = AuditEntry.object_index, f"{tenant_id}#{object_type}#{object_id}"
        extra_keys = {"object_key": {"S": hash_value}}
    elif actor_kind:
        index, hash_value = AuditEntry.actor_index, f"{tenant_id}#{actor_kind}#{actor_id}"
        extra_keys = {"actor_key": {"S": hash_value}}
    else:
        index, hash_value, extra_keys = None, tenant_id, {}
    if actor and index is not AuditEntry.actor_index:
        filters.append(AuditEntry.actor_id == actor_id)
        if actor_kind:
            filters.append(AuditEntry.actor_kind == actor_kind)
    if object_type and not object_id:
        filters.append(AuditEntry.object_type == object_type)
    if object_id and not object_type:
        filters.append(AuditEntry.object_id == object_id)
    condition = None
    for f in filters:
        condition = f if condition is None else condition & f
    start = None
    if cursor:
        start = {"tenant_id": {"S": tenant_id}, "entry_id": {"S": cursor}, **extra_keys}
    source = index if index is not None else AuditEntry
    result = source.query(hash_value, range_cond, filter_condition=condition, limit=limit,
                          last_evaluated_key=start, scan_index_forward=False)
    items = [view(e) for e in result]
    last = result.last_evaluated_key
    return {"items": items, "next_cursor": last["entry_id"]["S"] if last else None}
