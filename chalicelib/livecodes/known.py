"""Who a scan's visitor is, for a code's own routing rules: the known customer, their region.

How a scan knows the visitor:
- a mini-program sends its token (``Authorization: Bearer mp1...``) with ``GET /s/{slug}``
  (``Accept: application/json``); that request also gets the identity cookie below;
- the identity cookie ``yt_who=<tenant>.<user>.<expires>.<HMAC>`` (HttpOnly, signed with the app
  secret, bound to the tenant, living as long as the token that set it): an H5 page on this host
  that logged in through the mini-program token calls the scan once with it, and later plain
  scans from that browser are known without a token.
Nothing else identifies a visitor: an unknown visitor gets the code's normal routing.

Costs: the visitor is looked up only when the code has audience rules *and* the scan places them
(a returning visitor keeps their target from the visit cookie with no read): one read
(:func:`chalicelib.audience.profiles.routing_profile`). The region is an in-memory lookup.
"""
from __future__ import annotations

import time
from http.cookies import CookieError, SimpleCookie

from chalicelib.ids import is_id
from chalicelib.livecodes import ipregions, routing, rules_audience
from chalicelib.signing import sign, verify

WHO = "yt_who"


def who_cookie(tenant_id: str, user_id: str, expires: int, secret: str, secure: bool) -> str:
    payload = f"{tenant_id}.{user_id}.{expires}"
    max_age = max(int(expires - time.time()), 0)
    flags = f"Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
    return f"{WHO}={payload}.{sign(secret, 'who|' + payload)}; {flags}"


def who_from_cookie(cookie_header: str, tenant_id: str, secret: str) -> str | None:
    """The user id of a valid, unexpired identity cookie for this tenant, else None."""
    try:
        jar = SimpleCookie()
        jar.load(cookie_header or "")
    except CookieError:
        return None
    morsel = jar.get(WHO)
    parts = morsel.value.split(".") if morsel else []
    if len(parts) != 4 or parts[0] != tenant_id or not is_id(parts[1]) or not parts[2].isdigit():
        return None
    if not verify(secret, "who|" + ".".join(parts[:3]), parts[3]) or int(parts[2]) <= time.time():
        return None
    return parts[1]


def context(tenant_id: str, rules: routing.Rules, user_id: str | None, ip: str,
            point: routing.rules_stores.Point | None, previous: str | None) -> routing.Context:
    """What the code's own rules need of this visitor, read only when a rule needs it."""
    profile = None
    if rules.audience and user_id:
        from chalicelib.audience.profiles import routing_profile

        found = routing_profile(tenant_id, user_id)
        profile = rules_audience.Profile(*found) if found else None
    has_stores = any(t.store for t in rules.targets)
    region = ipregions.region_of(ip) if has_stores else None
    return routing.Context(profile=profile, point=point if has_stores else None, region=region,
                           previous=previous)
