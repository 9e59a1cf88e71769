"""Request parsing for the audience routes: bodies and list queries into use-case calls."""
from __future__ import annotations

import json

from chalicelib import pagination
from chalicelib import tags as tagrules
from chalicelib import validate as v
from chalicelib.audience import activity, identities, rules, segments, store, users
from chalicelib.audience.criteria import Criteria
from chalicelib.error_codes import USER_NOT_FOUND
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.secret_store import app_secret

MAX_PROPERTIES_BYTES = 4096


def identify(tenant_id: str, body: dict) -> tuple[dict, bool]:
    v.only_keys(body, {"identities", "tags"})
    found = rules.parse_identities(v.object_(body, "identities"))
    tags = v.list_(body, "tags", max_items=tagrules.MAX_TAGS)
    return identities.identify(tenant_id, found, tags)


def criteria(params: dict) -> Criteria:
    match = v.choice(params, "match", ("all", "any"), default="all")
    tags = tagrules.parse_csv(params.get("tags"), "tags", 20)
    stages = [s.strip() for s in (params.get("stage") or "").split(",") if s.strip()]
    return Criteria.build(tags_all=tags if match == "all" else (),
                          tags_any=tags if match == "any" else (),
                          tags_none=tagrules.parse_csv(params.get("not"), "not", 20), stages=stages)


def list_users(tenant_id: str, params: dict) -> dict:
    v.only_keys(params, {"tags", "match", "not", "stage", "identity", "cursor", "limit"}, "query")
    limit = v.page_limit(params)
    if "identity" in params:
        kind, _, value = params["identity"].partition(":")
        user = users.find_user(tenant_id, kind, value) if value else None
        return {"items": [user] if user else [], "next_cursor": None}
    c = criteria(params)
    secret, scope = app_secret(), "users:" + c.fingerprint()
    position = pagination.decode(secret, tenant_id, scope, params.get("cursor"))
    after = position.get("after") if position else None
    if after is not None and not isinstance(after, str):
        raise pagination.invalid()
    items, last = segments.list_users(tenant_id, c, limit, after)
    return {"items": items,
            "next_cursor": pagination.encode(secret, tenant_id, scope, {"after": last}) if last else None}


PREVIEW_MAX = 10_000
PREVIEW_SAMPLE = 5


AUDIENCE_KEYS = ("tags_all", "tags_any", "tags_none", "stages")


def preview(tenant_id: str, params: dict) -> dict:
    """Query ``tags_all``, ``tags_any``, ``tags_none``, ``stages`` (comma-separated; a campaign's
    audience, validated the same way) → ``{count, exact, audience, sample}``: the matching users
    counted from the index up to ``PREVIEW_MAX`` (``exact`` false past it) and the first
    ``PREVIEW_SAMPLE`` of them."""
    from chalicelib.campaigns.rules import parse_audience

    v.only_keys(params, set(AUDIENCE_KEYS), "query")
    audience = parse_audience({k: [s for s in params[k].split(",") if s.strip()]
                               for k in AUDIENCE_KEYS if k in params})
    count, sample_ids = 0, []
    for user_id in segments.iter_audience(tenant_id, audience["tags_all"], audience["tags_any"],
                                         audience["tags_none"], audience["stages"],
                                         limit=PREVIEW_MAX + 1):
        if count < PREVIEW_SAMPLE:
            sample_ids.append(user_id)
        count += 1
    found = users.get_users(tenant_id, sample_ids) if sample_ids else {}
    return {"count": min(count, PREVIEW_MAX), "exact": count <= PREVIEW_MAX,
            "audience": audience, "sample": [found[u] for u in sample_ids if u in found]}


def record_event(tenant_id: str, body: dict) -> dict:
    v.only_keys(body, {"user_id", "identity", "type", "at", "properties"})
    event_type = rules.check_event_type(body.get("type"))
    at = v.timestamp(body, "at")
    properties = v.object_(body, "properties") or {}
    if len(json.dumps(properties, ensure_ascii=False).encode()) > MAX_PROPERTIES_BYTES:
        raise ValidationFailed(f"'properties' must be at most {MAX_PROPERTIES_BYTES} bytes of JSON",
                               field="properties")
    user_id = _resolve_user(tenant_id, body)
    activity.record_event(tenant_id, user_id, event_type, at=at, properties=properties)
    return {"accepted": True, "user_id": user_id}


def _resolve_user(tenant_id: str, body: dict) -> str:
    if ("user_id" in body) == ("identity" in body):
        raise ValidationFailed("give exactly one of 'user_id' or 'identity'", field="user_id")
    if "user_id" in body:
        return store.load(tenant_id, v.text(body, "user_id", required=True, max_len=40)).user_id
    identity = rules.parse_identities(v.object_(body, "identity", required=True), "identity")
    if len(identity) != 1:
        raise ValidationFailed("'identity' holds exactly one kind, e.g. {\"openid\": \"...\"}",
                               field="identity")
    (kind, value), = identity.items()
    user_id = users.find_user_id(tenant_id, kind, value)
    if user_id is None:
        raise NotFound(f"no user has {kind} {value!r}; create one with POST /v1/users",
                       code=USER_NOT_FOUND, field="identity")
    return user_id
