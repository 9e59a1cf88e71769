"""Tenants and API keys: create, authenticate (cached briefly per container), rotate. Reading a
tenant is :func:`chalicelib.auth.tenants.get_tenant` (also importable from here)."""
from __future__ import annotations

import hmac
import time
from typing import NamedTuple

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from chalicelib import clock, secret_store, vault
from chalicelib.auth import keys, tenants
from chalicelib.auth.models import ApiKey, Tenant
from chalicelib.auth.tenants import get_tenant  # noqa: F401 - the tenant read most callers use
from chalicelib.error_codes import (
    ADMIN_DISABLED,
    API_KEY_NOT_FOUND,
    FORBIDDEN_ROLE,
    INVALID_ADMIN_KEY,
    INVALID_API_KEY,
    LAST_API_KEY,
    TOO_MANY_API_KEYS,
)
from chalicelib.errors import Forbidden, NotFound, Unauthorized
from chalicelib.ids import new_id, new_token
from chalicelib.settings import get_settings

DEFAULT_KEY_ROLE = "admin"  # new keys, and keys stored before roles existed
INITIAL_KEY_ROLE = "owner"  # the tenant's first key, handed out by the platform admin


class KeyIdentity(NamedTuple):
    tenant_id: str
    key_id: str
    role: str
    label: str | None


_key_cache: dict[tuple[str, str], tuple[float, tuple | None]] = {}
MAX_KEYS_PER_TENANT = 20


def check_admin(presented: str) -> None:
    admin = secret_store.admin_key()
    if not admin:
        raise Forbidden("the admin API is disabled: YUTANG_ADMIN_KEY is not set", code=ADMIN_DISABLED)
    if not presented or not hmac.compare_digest(presented.encode(), admin.encode()):
        raise Unauthorized("a valid admin key is required", code=INVALID_ADMIN_KEY)


def create_tenant(name: str, timezone_name: str | None = None, owner_email: str | None = None) -> dict:
    """A tenant, its first API key (role owner) and, with ``owner_email``, an invited owner."""
    tenant_id = new_id(keys.TENANT_ID_LEN)
    tenant = Tenant(tenant_id=tenant_id, name=name, created_at=clock.now(),
                    webhook_secret_sealed=seal_webhook_secret(tenant_id, new_token(24)))
    if timezone_name:
        tenant.timezone = timezone_name
    tenant.save(condition=Tenant.tenant_id.does_not_exist())
    key = create_api_key(tenant.tenant_id, label="initial", role=INITIAL_KEY_ROLE)
    answer = {"tenant_id": tenant.tenant_id, "name": name, "api_key": key["api_key"],
              "api_key_id": key["id"], "api_key_role": key["role"]}
    if owner_email:
        from chalicelib.members import service as members

        answer["owner"] = members.invite(tenant.tenant_id, {"email": owner_email, "role": "owner"},
                                         inviter_role="owner", inviter_id="admin")
    return answer


def create_api_key(tenant_id: str, label: str | None = None, fixed_key: str | None = None,
                   role: str = DEFAULT_KEY_ROLE, creator_role: str | None = None) -> dict:
    """A new key; its secret is returned once and only its hash is stored. A caller
    (``creator_role``) never creates a key above its own role."""
    from chalicelib.members import policy

    if creator_role and not policy.at_most(role, creator_role):
        raise Forbidden(f"a {creator_role} cannot create a key with the {role} role",
                        code=FORBIDDEN_ROLE, field="role")
    existing = [k for k in ApiKey.query(tenant_id) if not k.revoked]
    if len(existing) >= MAX_KEYS_PER_TENANT:
        raise Forbidden(f"a tenant may hold at most {MAX_KEYS_PER_TENANT} active keys",
                        code=TOO_MANY_API_KEYS)
    if fixed_key:
        parsed = keys.parse_key(fixed_key)
        if not parsed or parsed.tenant_id != tenant_id:
            raise Forbidden("the fixed key does not belong to this tenant", code=INVALID_API_KEY)
        key_id, full, secret_hash = parsed.key_id, fixed_key, keys.hash_secret(parsed.secret)
    else:
        key_id, full, secret_hash = keys.make_key(tenant_id)
    ApiKey(tenant_id=tenant_id, key_id=key_id, secret_hash=secret_hash, created_at=clock.now(),
           label=label, role=role).save()
    _key_cache.pop((tenant_id, key_id), None)
    return {"id": key_id, "api_key": full, "label": label, "role": role,
            "created_at": clock.now().isoformat()}


def list_api_keys(tenant_id: str) -> list[dict]:
    return [{"id": k.key_id, "label": k.label, "role": k.role or DEFAULT_KEY_ROLE,
             "created_at": k.created_at.isoformat()}
            for k in ApiKey.query(tenant_id) if not k.revoked]


def revoke_api_key(tenant_id: str, key_id: str) -> None:
    """Admins and owners revoke any of the tenant's keys (rotation replaces the owner's first key
    with a new one); the last active key stays."""
    try:
        item = ApiKey.get(tenant_id, key_id)
    except DoesNotExist:
        raise NotFound("no such API key", code=API_KEY_NOT_FOUND) from None
    if item.revoked:
        raise NotFound("no such API key", code=API_KEY_NOT_FOUND)
    active = [k for k in ApiKey.query(tenant_id) if not k.revoked]
    if len(active) <= 1:
        raise Forbidden("cannot revoke the tenant's last active key; create another first",
                        code=LAST_API_KEY)
    item.update(actions=[ApiKey.revoked.set(True)])
    _key_cache.pop((tenant_id, key_id), None)


def authenticate(bearer: str) -> tuple[str, str]:
    """Returns (tenant_id, key_id) for a valid key or raises Unauthorized."""
    identity = authenticate_key(bearer)
    return identity.tenant_id, identity.key_id


def authenticate_key(bearer: str) -> KeyIdentity:
    """The key's tenant, id, role and label for a valid key, or Unauthorized."""
    parsed = keys.parse_key(bearer or "")
    if parsed is None:
        raise Unauthorized("missing or malformed API key (Authorization: Bearer yt_...)",
                           code=INVALID_API_KEY)
    cache_key = (parsed.tenant_id, parsed.key_id)
    hit = _key_cache.get(cache_key)
    if hit and hit[0] > time.monotonic():
        stored = hit[1]
    else:
        try:
            item = ApiKey.get(parsed.tenant_id, parsed.key_id)
            stored = None if item.revoked else (item.secret_hash, item.role or DEFAULT_KEY_ROLE,
                                                item.label)
        except DoesNotExist:
            stored = None
        _key_cache[cache_key] = (time.monotonic() + get_settings().api_key_cache_seconds, stored)
    if stored is None or not keys.secret_matches(parsed.secret, stored[0]):
        raise Unauthorized("invalid API key", code=INVALID_API_KEY)
    return KeyIdentity(parsed.tenant_id, parsed.key_id, stored[1], stored[2])


WEBHOOK_SECRET = "tenant.webhook_secret"  # the vault purpose


def seal_webhook_secret(tenant_id: str, plain: str) -> str:
    return vault.seal(tenant_id, WEBHOOK_SECRET, plain)


def webhook_secret(tenant: Tenant) -> str:
    """The tenant's webhook signing secret in clear (it is stored sealed). A row written before
    secrets were sealed is sealed now, its plain text removed (conditional on it not changing)."""
    if tenant.webhook_secret_sealed:
        return vault.unseal(tenant.tenant_id, WEBHOOK_SECRET, tenant.webhook_secret_sealed)
    plain = tenant.webhook_secret or ""
    if plain:
        sealed = seal_webhook_secret(tenant.tenant_id, plain)
        try:
            tenant.update(actions=[Tenant.webhook_secret_sealed.set(sealed), Tenant.webhook_secret.remove()],
                          condition=Tenant.webhook_secret == plain)
        except UpdateError:
            fresh = get_tenant(tenant.tenant_id, max_age=0)  # another writer migrated or rotated
            return webhook_secret(fresh) if fresh.webhook_secret != plain else plain
    return plain


def tenant_view(tenant: Tenant) -> dict:
    return {"tenant_id": tenant.tenant_id, "name": tenant.name, "timezone": tenant.timezone,
            "webhook_url": tenant.webhook_url, "webhook_secret": webhook_secret(tenant) or None,
            "created_at": tenant.created_at.isoformat()}


def update_tenant(tenant_id: str, changes: dict) -> dict:
    tenant = get_tenant(tenant_id, max_age=0)
    actions: list[Action] = []
    if "webhook_url" in changes:
        actions.append(Tenant.webhook_url.set(changes["webhook_url"]) if changes["webhook_url"]
                       else Tenant.webhook_url.remove())
    if changes.get("rotate_webhook_secret"):
        actions.append(Tenant.webhook_secret_sealed.set(seal_webhook_secret(tenant_id, new_token(24))))
        actions.append(Tenant.webhook_secret.remove())
    for field in ("name", "timezone"):
        if changes.get(field):
            actions.append(getattr(Tenant, field).set(changes[field]))
    if actions:
        tenant.update(actions=actions)
    tenants.forget(tenant_id)
    return tenant_view(tenant)


def clear_caches() -> None:
    _key_cache.clear()
    tenants.forget()
    from chalicelib.members import sessions  # light: no AWS client, no cryptography

    sessions.clear_cache()
