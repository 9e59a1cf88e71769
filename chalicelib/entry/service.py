"""Entry domains: the tenant's list (settings API) and the entry redirect (public, hot path).

The redirect reads the tenant's one ``EntryDomains`` item eventually consistent and keeps it per
container for ``CACHE_SECONDS`` (≤ 1 s), so a domain marked blocked stops receiving visitors within
that bound everywhere, and an entry costs at most one read per tenant and container per second.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from pynamodb.exceptions import PutError

from chalicelib import clock
from chalicelib import validate as v
from chalicelib.db import condition_failed
from chalicelib.entry import rules
from chalicelib.entry.models import EntryDomains
from chalicelib.error_codes import (
    CONCURRENT_CHANGE,
    ENTRY_DOMAIN_EXISTS,
    ENTRY_DOMAIN_LIMIT,
    ENTRY_DOMAIN_NOT_FOUND,
)
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.settings import get_settings

CACHE_SECONDS = 1.0
_cache: dict[str, tuple[float, list[dict]]] = {}


# ---- the redirect ---------------------------------------------------------------------------------

def domains_for_entry(tenant_id: str) -> list[dict]:
    hit = _cache.get(tenant_id)
    now = time.monotonic()
    if hit and hit[0] > now:
        return hit[1]
    try:
        domains = list(EntryDomains.get(tenant_id).domains or [])
    except EntryDomains.DoesNotExist:
        domains = []
    _cache[tenant_id] = (now + CACHE_SECONDS, domains)
    return domains


def redirect_url(tenant_id: str, slug: str, ref: str | None) -> str:
    """Where ``/e/{slug}`` sends a visitor: the tenant's current landing domain, else this
    deployment's own public URL (same scheme as the public URL: https when deployed)."""
    cfg = get_settings()
    scheme, _, own_host = cfg.public_url.partition("://")
    host = rules.current(domains_for_entry(tenant_id)) or own_host
    return rules.landing_url(scheme, host, slug, ref)


def entry_url(tenant_id: str, code_id: str) -> str:
    from chalicelib.livecodes.loading import slug_for

    return f"{get_settings().public_url}/e/{slug_for(tenant_id, code_id)}"


def printed_url(tenant_id: str, code_id: str, scan_url: str) -> str:
    """What a live code's QR image encodes: the entry URL once the tenant lists a landing domain
    (so a blocked domain never needs a reprint), else the scan URL itself."""
    return entry_url(tenant_id, code_id) if domains_for_entry(tenant_id) else scan_url


def clear_cache() -> None:
    _cache.clear()


# ---- the settings API -----------------------------------------------------------------------------

def _view(d: dict, current: str | None) -> dict:
    return {"domain": d["domain"], "status": d["status"], "current": d["domain"] == current,
            "added_at": d["added_at"], "blocked_at": d.get("blocked_at")}


def list_domains(tenant_id: str) -> dict:
    domains = _load(tenant_id).domains or []
    current = rules.current(domains)
    return {"items": [_view(d, current) for d in domains], "next_cursor": None, "current": current}


def add_domain(tenant_id: str, body: dict) -> dict:
    v.only_keys(body, {"domain"})
    domain = rules.parse_domain(body.get("domain"))

    def add(domains: list[dict], now: datetime) -> None:
        if any(d["domain"] == domain for d in domains):
            raise Conflict(f"{domain} is listed already", code=ENTRY_DOMAIN_EXISTS, field="domain")
        if len(domains) >= rules.MAX_DOMAINS:
            raise ValidationFailed(f"at most {rules.MAX_DOMAINS} entry domains",
                                   code=ENTRY_DOMAIN_LIMIT, field="domain")
        domains.append({"domain": domain, "status": "active", "added_at": now.isoformat(),
                        "blocked_at": None})

    return _one(_change(tenant_id, add), domain)


def update_domain(tenant_id: str, domain: str, body: dict) -> dict:
    v.only_keys(body, {"status"})
    status = v.choice(body, "status", rules.STATUSES, required=True)
    name = _known(domain)

    def mark(domains: list[dict], now: datetime) -> None:
        d = _find(domains, name)
        if d["status"] != status:
            d["status"], d["blocked_at"] = status, now.isoformat() if status == "blocked" else None

    return _one(_change(tenant_id, mark), name)


def delete_domain(tenant_id: str, domain: str) -> None:
    name = _known(domain)
    _change(tenant_id, lambda domains, now: domains.remove(_find(domains, name)))


def _known(domain: str) -> str:
    try:
        return rules.parse_domain(domain)
    except ValidationFailed:
        raise NotFound("no such entry domain", code=ENTRY_DOMAIN_NOT_FOUND) from None


def _find(domains: list[dict], name: str) -> dict:
    for d in domains:
        if d["domain"] == name:
            return d
    raise NotFound("no such entry domain", code=ENTRY_DOMAIN_NOT_FOUND)


def _one(domains: list[dict], name: str) -> dict:
    return _view(_find(domains, name), rules.current(domains))


def _load(tenant_id: str) -> EntryDomains:
    try:
        return EntryDomains.get(tenant_id, consistent_read=True)
    except EntryDomains.DoesNotExist:
        return EntryDomains(tenant_id=tenant_id, domains=[], updated_at=clock.now())


def _change(tenant_id: str, mutate: Callable[[list[dict], datetime], None]) -> list[dict]:
    """Apply ``mutate`` to the list and save it if nobody changed it meanwhile (version check);
    a concurrent change is re-read and ``mutate`` applied again."""
    for _ in range(4):
        item = _load(tenant_id)
        domains = [dict(d) for d in item.domains or []]
        now = clock.now()
        mutate(domains, now)
        item.domains, item.updated_at = domains, now
        try:
            item.save()
        except PutError as exc:
            if condition_failed(exc):
                continue
            raise
        _cache.pop(tenant_id, None)
        return domains
    raise Conflict("the entry domains changed concurrently; retry", code=CONCURRENT_CHANGE)
