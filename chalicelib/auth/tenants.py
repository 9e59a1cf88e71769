"""Tenant records read through a short per-container cache: the one read every domain (and the
team's sessions) uses to learn a tenant's name, timezone and webhook settings. Knows nothing of
keys or members, so anything may depend on it."""
from __future__ import annotations

import time

from pynamodb.exceptions import DoesNotExist

from chalicelib.auth.models import Tenant
from chalicelib.error_codes import TENANT_NOT_FOUND
from chalicelib.errors import NotFound

_cache: dict[str, tuple[float, Tenant]] = {}


def get_tenant(tenant_id: str, max_age: float = 30.0) -> Tenant:
    hit = _cache.get(tenant_id)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    try:
        tenant = Tenant.get(tenant_id)
    except DoesNotExist:
        raise NotFound("no such tenant", code=TENANT_NOT_FOUND) from None
    _cache[tenant_id] = (time.monotonic() + max_age, tenant)
    return tenant


def forget(tenant_id: str | None = None) -> None:
    if tenant_id is None:
        _cache.clear()
    else:
        _cache.pop(tenant_id, None)
