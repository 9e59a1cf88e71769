"""ADAPTER — customer attribution for 企业微信 callbacks.

This is the one place callbacks record who was added, through which live code/channel, with which
tags and events. Until the audience domain (``chalicelib.audience.service``: create/find/tag users,
record events) is available to build on, it keeps a minimal record in the ``wecom_contacts`` table
(see :mod:`chalicelib.wecom.models`). Switching to the audience service means re-implementing the
four functions below on top of it (find-or-create the user by the ``external_userid`` identity,
``tag_user``, ``record_event``); callers do not change. Every write here is idempotent
(set/if_not_exists/set-add, event items keyed by their time and type).
"""
from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from chalicelib.errors import NotFound
from chalicelib.ids import new_id
from chalicelib.wecom.models import WecomContact

EVENT_TTL_DAYS = 400


def _event(tenant_id: str, external_userid: str, event_type: str, at: datetime,
           properties: dict) -> None:
    sk = f"{WecomContact.event_prefix(external_userid)}{int(at.timestamp() * 1000):013d}#{event_type}"
    WecomContact(tenant_id=tenant_id, sk=sk, event_type=event_type, properties=properties,
                 created_at=at).save()


def _upsert(tenant_id: str, external_userid: str, *, channel: str | None, code_id: str | None,
            target_id: str | None, tags: list[str], at: datetime, extra: list) -> WecomContact:
    item = WecomContact(tenant_id=tenant_id, sk=WecomContact.contact_key(external_userid))
    actions = [WecomContact.user_id.set(WecomContact.user_id | new_id(12)),
               WecomContact.external_userid.set(external_userid),
               WecomContact.created_at.set(WecomContact.created_at | at),
               WecomContact.updated_at.set(at), *extra]
    for attr, value in ((WecomContact.channel, channel), (WecomContact.code_id, code_id),
                        (WecomContact.target_id, target_id)):
        if value:
            actions.append(attr.set(attr | value))  # if_not_exists: the first attribution wins
    if tags:
        actions.append(WecomContact.tags.add(set(tags)))
    item.update(actions=actions)
    return item


def contact_added(tenant_id: str, external_userid: str, staff_userid: str, *, channel: str | None,
                  code_id: str | None, target_id: str | None, tags: list[str], at: datetime,
                  state: str | None) -> str:
    """Create or merge the customer; the first attribution wins, tags and staff accumulate.
    Records a ``joined_staff`` event. Returns the customer's user id."""
    item = _upsert(tenant_id, external_userid, channel=channel, code_id=code_id,
                   target_id=target_id, tags=tags, at=at,
                   extra=[WecomContact.status.set("active"), WecomContact.staff.add({staff_userid})])
    _event(tenant_id, external_userid, "joined_staff", at,
           {"staff": staff_userid, "channel": channel, "code_id": code_id, "target_id": target_id,
            "state": state})
    return item.user_id


def contact_removed(tenant_id: str, external_userid: str, staff_userid: str, change_type: str,
                    at: datetime) -> dict | None:
    """``del_external_contact`` (staff removed the customer) or ``del_follow_user`` (the customer
    removed the staff member). Returns the stored attribution, or None for an unknown customer."""
    try:
        item = WecomContact.get(tenant_id, WecomContact.contact_key(external_userid))
    except DoesNotExist:
        item = None
    event_type = "removed_by_staff" if change_type == "del_external_contact" else "left_staff"
    _event(tenant_id, external_userid, event_type, at, {"staff": staff_userid})
    if item is None:
        return None
    remaining = set(item.staff or set()) - {staff_userid}
    actions = [WecomContact.updated_at.set(at),
               WecomContact.status.set("active" if remaining else "removed")]
    if staff_userid in (item.staff or set()):
        actions.append(WecomContact.staff.delete({staff_userid}))
    item.update(actions=actions)
    return {"code_id": item.code_id, "target_id": item.target_id, "channel": item.channel}


def joined_group(tenant_id: str, external_userid: str, chat_id: str, *, channel: str | None,
                 code_id: str | None, target_id: str | None, tags: list[str], at: datetime) -> None:
    """A customer joined a group through one of our join ways (``state`` on the member)."""
    _upsert(tenant_id, external_userid, channel=channel, code_id=code_id, target_id=target_id,
            tags=tags, at=at, extra=[])
    _event(tenant_id, external_userid, "joined_group", at,
           {"chat_id": chat_id, "channel": channel, "code_id": code_id, "target_id": target_id})


def get_contact(tenant_id: str, external_userid: str, events_limit: int = 50) -> dict:
    try:
        item = WecomContact.get(tenant_id, WecomContact.contact_key(external_userid))
    except DoesNotExist:
        raise NotFound("no such 企业微信 contact", code="wecom-contact-not-found") from None
    history = WecomContact.query(tenant_id, WecomContact.sk.startswith(
        WecomContact.event_prefix(external_userid)), scan_index_forward=False, limit=events_limit)
    return {"external_userid": external_userid, "user_id": item.user_id, "channel": item.channel,
            "code_id": item.code_id, "target_id": item.target_id, "status": item.status,
            "staff": sorted(item.staff or []), "tags": sorted(item.tags or []),
            "created_at": item.created_at.isoformat() if item.created_at else None,
            "updated_at": item.updated_at.isoformat() if item.updated_at else None,
            "events": [{"type": e.event_type, "at": e.created_at.isoformat(),
                        "properties": e.properties or {}} for e in history]}
