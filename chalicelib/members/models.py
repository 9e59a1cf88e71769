"""Team member, login, session and audit log tables.

Member (``members``, tenant_id + member_id): one person in one tenant, with a role, a status
(``invited`` → ``active``; ``disabled``), the scrypt hash of the password, the hash of a pending
invite token, and the lockout counters.
- GetItem (tenant_id, member_id): session checks (cached a few seconds), invites, changes.
- Query tenant_id: the team list (cursor = member_id).

MemberLogin (``member-logins``, email + tenant_id): which tenants an email belongs to, so a login
that names no tenant finds its member. The one table not keyed by the tenant first: at login the
tenant is what we are looking for. It holds only (email, tenant, member id); the conditional put of
this item is what keeps an email unique within a tenant.
- Query email (≤ a few items): login. GetItem (email, tenant_id): login naming its tenant.

Session (``member-sessions``, tenant_id + "<member_id>#<session_id>"): one login; the hash of the
current refresh nonce and its generation; revoked on logout, replay, disable or removal. DynamoDB
deletes a session a day after it can no longer be refreshed (``ttl``).
- GetItem: every request with an access token (cached a few seconds per container), refresh.
- Query tenant_id, begins_with "<member_id>#": revoke a member's sessions.

AuditEntry (``audit-log``, tenant_id + entry_id): who changed what, when, from where. ``entry_id``
is ``<epoch ms, 13 digits>-<random>``, so a Query in descending order is newest first and a time
range is a key condition. Written once with ``attribute_not_exists``; there is no update or delete
path and no TTL: the log is kept as long as the tenant.
- Query tenant_id (descending, between from/to), filtered by actor or object type.
- Query GSI ``object-index`` ("<tenant>#<type>#<id>", entry_id): the history of one object.
- Query GSI ``actor-index`` ("<tenant>#<kind>#<id>", entry_id): what one person or key did.
"""
from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.db import BaseModel


class Member(BaseModel):
    class Meta:
        table_name = "members"

    tenant_id = UnicodeAttribute(hash_key=True)
    member_id = UnicodeAttribute(range_key=True)
    email = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    role = UnicodeAttribute()
    status = UnicodeAttribute(default="invited")  # invited | active | disabled
    password_hash = UnicodeAttribute(null=True)
    invite_hash = UnicodeAttribute(null=True)
    invite_expires_at = UTCDateTimeAttribute(null=True)
    invited_by = UnicodeAttribute(null=True)
    failed_logins = NumberAttribute(default=0)
    locked_until = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    last_login_at = UTCDateTimeAttribute(null=True)


class MemberLogin(BaseModel):
    class Meta:
        table_name = "member-logins"

    email = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute(range_key=True)
    member_id = UnicodeAttribute()


def session_key(member_id: str, session_id: str) -> str:
    return f"{member_id}#{session_id}"


class Session(BaseModel):
    class Meta:
        table_name = "member-sessions"

    tenant_id = UnicodeAttribute(hash_key=True)
    session_key = UnicodeAttribute(range_key=True)
    member_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()  # no refresh after this (absolute session lifetime)
    generation = NumberAttribute(default=0)
    refresh_hash = UnicodeAttribute()
    refreshed_at = UTCDateTimeAttribute(null=True)
    revoked_at = UTCDateTimeAttribute(null=True)
    revoked_reason = UnicodeAttribute(null=True)  # logout | refresh-reuse | member-disabled | ...
    ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    ttl = TTLAttribute(null=True)


class ObjectIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "object-index"
        projection = AllProjection()

    object_key = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)


class ActorIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "actor-index"
        projection = AllProjection()

    actor_key = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)


class AuditEntry(BaseModel):
    class Meta:
        table_name = "audit-log"

    tenant_id = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)
    at = UTCDateTimeAttribute()
    actor_kind = UnicodeAttribute()  # member | api_key | admin | anonymous
    actor_id = UnicodeAttribute(null=True)
    actor_name = UnicodeAttribute(null=True)  # the member's email or the key's label, when known
    actor_key = UnicodeAttribute()
    action = UnicodeAttribute()  # "POST /v1/livecodes"
    route = UnicodeAttribute()  # "/v1/livecodes/{code_id}"
    object_type = UnicodeAttribute(null=True)
    object_id = UnicodeAttribute(null=True)
    object_key = UnicodeAttribute(null=True)  # sparse: entries about no particular object stay out
    changed_fields = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]  # PynamoDB types `of` as the element type; items are str
    status = NumberAttribute()
    ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute(null=True)  # e.g. "failed-login", "locked", "refresh-reuse"

    object_index = ObjectIndex()
    actor_index = ActorIndex()
