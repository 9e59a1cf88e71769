"""The scan request's edge for a code's own rules: the visitor's position (query or posted back by
the store landing page), who they are (mini-program token or identity cookie), the page nonce."""
from __future__ import annotations

import secrets
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

from chalicelib.error_codes import INVALID_LOCATION
from chalicelib.errors import ValidationFailed
from chalicelib.http import bearer, header, parse_json

CONTENT_TYPES = ["application/x-www-form-urlencoded", "application/json"]
MAX_POST_BYTES = 1024


class Who(NamedTuple):
    user_id: str | None = None
    set_cookie: str = ""  # the identity cookie to set (when a token named the visitor)


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def posted(request: Any) -> dict:
    """The POSTed position: a form (the landing page) or a JSON object (other clients)."""
    raw = request.raw_body or b""
    if len(raw) > MAX_POST_BYTES:
        raise ValidationFailed("the body is too large", code=INVALID_LOCATION)
    if header(request, "Content-Type").startswith("application/json"):
        body = parse_json(raw) if raw.strip() else {}
        if not isinstance(body, dict):
            raise ValidationFailed("the body must be a JSON object", code=INVALID_LOCATION)
        return body
    return dict(parse_qsl(raw.decode("utf-8", "replace")))


def point_from(values: dict) -> Any:
    """A ``rules_stores.Point`` from ``lat``/``lng``; None when declined (``denied``) or absent."""
    from chalicelib.livecodes.rules_stores import parse_point

    if values.get("denied") not in (None, "", False) or (
            values.get("lat") in (None, "") and values.get("lng") in (None, "")):
        return None
    return parse_point(values.get("lat"), values.get("lng"))


def known_user(request: Any, tenant_id: str) -> Who:
    """The visitor's user id from a valid mini-program token for this tenant (and the identity
    cookie to set for later scans), else from a valid identity cookie, else nobody."""
    from chalicelib.livecodes import known
    from chalicelib.mp import tokens
    from chalicelib.secret_store import app_secret
    from chalicelib.settings import get_settings

    user_id = tokens.user_from_request(request, tenant_id)
    if user_id is not None:
        expires = tokens.expiry(bearer(request))
        return Who(user_id, known.who_cookie(tenant_id, user_id, expires, app_secret(),
                                             get_settings().secure_cookies))
    return Who(known.who_from_cookie(header(request, "Cookie"), tenant_id, app_secret()))
