"""Cursor pagination over a tenant's partition (the contract's ``{items, next_cursor}`` lists).

The cursor is the last item's range key: ids are random, public and already what a client sees in
the listing, so no signing is needed; anything that is not an id of the right length is refused.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.errors import ValidationFailed
from chalicelib.ids import is_id


def by_tenant(model: Any, tenant_id: str, limit: int, cursor: str | None,
              view: Callable[[Any], dict], id_len: int) -> dict:
    range_key = model._range_key_attribute().attr_name
    start = None
    if cursor:
        if not is_id(cursor, id_len):
            raise ValidationFailed("invalid cursor", code="invalid-cursor", field="cursor")
        start = {"tenant_id": {"S": tenant_id}, range_key: {"S": cursor}}
    result = model.query(tenant_id, limit=limit, last_evaluated_key=start)
    items = [view(item) for item in result]
    last = result.last_evaluated_key
    return {"items": items, "next_cursor": last[range_key]["S"] if last else None}
