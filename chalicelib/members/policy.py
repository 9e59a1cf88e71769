"""Who may call what: the one role table for every ``/v1/`` route (pure).

Roles are ranked ``analyst`` (read-only) < ``operator`` (runs the day-to-day: codes, content,
campaigns) < ``admin`` (team, keys, integrations and settings) < ``owner`` (ownership). The auth
middleware asks :func:`required_role` for the request's route template and method and refuses a
caller below it with 403 ``forbidden-role``; no view carries its own decorator.

How a route is decided, first match wins:
1. ``PUBLIC``: no credentials (login, refresh, invite acceptance).
2. ``RULES``: (route template, or a prefix ending in ``*``; methods or ``*``; role).
3. ``DEFAULTS`` by method: reads are for analysts, every other method for operators.

Rules that depend on the data (only an owner grants or changes ``owner``; nobody creates a key
above their own role; a tenant keeps one owner) live in the members and keys services.
``tests/api/test_role_matrix.py`` checks every routed path and method against its own list, so a
new route fails that test until someone decides who may call it.
"""
from __future__ import annotations

ROLES = ("analyst", "operator", "admin", "owner")
RANK = {role: i for i, role in enumerate(ROLES)}
READS = frozenset({"GET", "HEAD"})

PUBLIC = frozenset({("/v1/sessions", "POST"), ("/v1/sessions/refresh", "POST"),
                    ("/v1/invites/{token}/accept", "POST")})

ALL = "*"
RULES: tuple[tuple[str, str, str], ...] = (
    # Every signed-in caller: who am I, log me out.
    ("/v1/me", ALL, "analyst"),
    ("/v1/sessions", "DELETE", "analyst"),
    # The team and its credentials.
    ("/v1/members*", "GET", "analyst"),
    ("/v1/members*", ALL, "admin"),
    ("/v1/api-keys*", ALL, "admin"),
    ("/v1/audit-log*", ALL, "admin"),
    # Tenant settings: the answer carries the webhook signing secret, so reading is admin too.
    ("/v1/tenant", ALL, "admin"),
    # Integrations and settings that change how Yutang talks to WeChat / 企业微信 / the world.
    ("/v1/integrations/*", "GET", "analyst"),  # health and ids; secrets are never answered
    ("/v1/integrations/*", ALL, "admin"),
    ("/v1/mp/settings", "GET", "analyst"),
    ("/v1/mp/settings", ALL, "admin"),
    ("/v1/audience/settings", "GET", "analyst"),
    ("/v1/audience/settings", ALL, "admin"),
    ("/v1/messaging/settings", "GET", "analyst"),
    ("/v1/messaging/settings", ALL, "admin"),
    ("/v1/webhook-subscriptions*", ALL, "admin"),
    ("/v1/webhook-deliveries*", ALL, "admin"),
    # Entry domains decide where visitors are redirected: adding or removing one is an admin's
    # decision; marking one blocked or active again (PATCH) stays with operators.
    ("/v1/entry-domains", "POST", "admin"),
    ("/v1/entry-domains/{domain}", "DELETE", "admin"),
)
DEFAULTS = {"GET": "analyst", "HEAD": "analyst"}
DEFAULT_MUTATION = "operator"


def _matches(pattern: str, path: str) -> bool:
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return path == pattern


def required_role(path: str, method: str) -> str | None:
    """The lowest role that may call ``method path`` (a route template), None when public."""
    method = method.upper()
    if (path, method) in PUBLIC:
        return None
    for pattern, methods, role in RULES:
        if (methods == ALL or method in methods.split(",")) and _matches(pattern, path):
            return role
    return DEFAULTS.get(method, DEFAULT_MUTATION)


def allows(role: str | None, needed: str) -> bool:
    return role in RANK and RANK[role] >= RANK[needed]


def at_most(role: str, ceiling: str) -> bool:
    """True when ``role`` is not above ``ceiling`` (nobody hands out more than they hold)."""
    return RANK[role] <= RANK[ceiling]
