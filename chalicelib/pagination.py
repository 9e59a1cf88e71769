"""List cursors: one scheme for every ``{items, next_cursor}`` list.

A cursor is opaque to clients: base64url JSON of the position in the list, a dot, and an HMAC (the
deployment secret) over the tenant, the list's scope (which list, and for a filtered list which
query) and that position. So a cursor is tamper-evident and bound to its tenant and query: one
edited, or replayed against another tenant or another query, is refused with ``invalid-cursor``
(400), and nothing in it is read before its signature holds.

:func:`by_tenant` pages a tenant's partition of a table in key order with such cursors; lists with
their own positions (content queries, audiences, campaigns) call :func:`encode` / :func:`decode`.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from chalicelib import signing
from chalicelib.error_codes import INVALID_CURSOR
from chalicelib.errors import ValidationFailed
from chalicelib.ids import is_id
from chalicelib.secret_store import app_secret


def encode(secret: str, tenant_id: str, scope: str, position: dict) -> str:
    raw = base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode())
    body = raw.decode().rstrip("=")
    return f"{body}.{signing.sign(secret, _message(tenant_id, scope, body))}"


def decode(secret: str, tenant_id: str, scope: str, cursor: str | None) -> dict | None:
    """The position a cursor of this tenant and scope holds; None for no cursor."""
    if cursor is None or cursor == "":
        return None
    body, _, sig = cursor.partition(".")
    if not body or not signing.verify(secret, _message(tenant_id, scope, body), sig):
        raise invalid()
    try:
        value = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        raise invalid() from None
    if not isinstance(value, dict):
        raise invalid()
    return value


def _message(tenant_id: str, scope: str, body: str) -> str:
    return f"cursor|{tenant_id}|{scope}|{body}"


def invalid() -> ValidationFailed:
    return ValidationFailed("the cursor is invalid, or belongs to another query", code=INVALID_CURSOR,
                            field="cursor")


def by_tenant(model: Any, tenant_id: str, limit: int, cursor: str | None,
              view: Callable[[Any], dict], id_len: int) -> dict:
    """One page of the tenant's items of ``model`` (hash key ``tenant_id``; range key an id of
    ``id_len`` characters) in key order: ``{"items", "next_cursor"}``."""
    range_key = model._range_key_attribute().attr_name
    secret, scope = app_secret(), f"list:{model.__name__}"
    position = decode(secret, tenant_id, scope, cursor)
    start = None
    if position is not None:
        after = position.get("after")
        if not (isinstance(after, str) and is_id(after, id_len)):
            raise invalid()
        start = {"tenant_id": {"S": tenant_id}, range_key: {"S": after}}
    result = model.query(tenant_id, limit=limit, last_evaluated_key=start)
    items = [view(item) for item in result]
    last = result.last_evaluated_key
    return {"items": items,
            "next_cursor": encode(secret, tenant_id, scope, {"after": last[range_key]["S"]})
            if last else None}
