"""Customer attribution for 企业微信 callbacks, on top of the audience.

Each customer is an audience user (:mod:`chalicelib.audience.users`) holding the identity
``external_userid`` — and ``unionid`` when 企业微信 tells it (``externalcontact/get``), so a customer
who is already known from the mini-program (same unionid) is merged with that user by the audience
merge rule. What happened becomes audience events, so stages and ``after_event`` campaigns see it:
``joined_staff`` (add), ``left_staff`` (``del_external_contact``: the staff member removed the
customer, ``del_follow_user``: the customer removed the staff member; ``properties.removed_by``
tells which) and ``joined_group`` (a group join through one of our join ways). The tags
(``channel:<channel>``, ``livecode:<code id>`` and the code's auto-tags) are added with source
``channel`` in the event's own transaction.

The package keeps only what the audience does not hold, one ``C#<external_userid>`` item per
customer in ``wecom_contacts`` (:mod:`chalicelib.wecom.models`): the first attribution (live code,
target, channel — it wins over later ones, and removals are counted against that code), the staff
members who have the customer, and whether any still do. Tags and events live in the audience only.

Writes are safe to repeat (identify is create-or-find, the contact item is set/if_not_exists/
set-add, tags are set-adds); the callback consumer claims each event once, so only a handler that
fails after its ``record_event`` and is retried records that event twice.
"""
from __future__ import annotations

import logging
from datetime import datetime

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from chalicelib.audience import activity, identities, rules, store, users
from chalicelib.audience.views import user_tags
from chalicelib.error_codes import WECOM_CONTACT_NOT_FOUND
from chalicelib.errors import NotFound
from chalicelib.wecom.models import WecomContact

log = logging.getLogger("yutang.wecom")


def _identities(tenant_id: str, external_userid: str, unionid: str | None,
                lookup: bool) -> dict[str, str]:
    """``external_userid`` and, when 企业微信 reveals it, the customer's ``unionid`` (given, or one
    ``externalcontact/get`` call; a failure only costs the merge, never the attribution)."""
    found = {"external_userid": external_userid}
    if not unionid and lookup:
        from chalicelib.wecom import client, integration

        try:
            unionid = client.get_external_contact(integration.load(tenant_id),
                                                  external_userid).get("unionid")
        except client.WecomRejected as exc:
            log.info("no unionid for a 企业微信 customer of tenant %s: %s", tenant_id, exc.message)
            unionid = None
    if isinstance(unionid, str) and unionid:
        found["unionid"] = unionid
    return rules.parse_identities(found)


def _user_id(tenant_id: str, external_userid: str, unionid: str | None = None,
             lookup: bool = False) -> str:
    user, _ = identities.identify(tenant_id, _identities(tenant_id, external_userid, unionid, lookup))
    return user["id"]


def _upsert(tenant_id: str, external_userid: str, user_id: str, *, channel: str | None,
            code_id: str | None, target_id: str | None, at: datetime, extra: list) -> None:
    item = WecomContact(tenant_id=tenant_id, sk=WecomContact.contact_key(external_userid))
    actions = [WecomContact.user_id.set(user_id),
               WecomContact.external_userid.set(external_userid),
               WecomContact.created_at.set(WecomContact.created_at | at),
               WecomContact.updated_at.set(at), *extra]
    for attr, value in ((WecomContact.channel, channel), (WecomContact.code_id, code_id),
                        (WecomContact.target_id, target_id)):
        if value:
            actions.append(attr.set(attr | value))  # if_not_exists: the first attribution wins
    item.update(actions=actions)


def contact_added(tenant_id: str, external_userid: str, staff_userid: str, *, channel: str | None,
                  code_id: str | None, target_id: str | None, tags: list[str], at: datetime,
                  state: str | None, extra: dict | None = None) -> str:
    """Create or find (and merge) the customer's audience user, record the attribution, tag them
    and record ``joined_staff``. Returns the user id."""
    user_id = _user_id(tenant_id, external_userid, lookup=True)
    _upsert(tenant_id, external_userid, user_id, channel=channel, code_id=code_id,
            target_id=target_id, at=at,
            extra=[WecomContact.status.set("active"), WecomContact.staff.add({staff_userid})])
    activity.record_event(tenant_id, user_id, "joined_staff", at,
                          {"staff": staff_userid, "channel": channel, "code_id": code_id,
                           "target_id": target_id, "state": state}, channel_tags=tags,
                          publish_extra={"external_userid": external_userid, **(extra or {})})
    return user_id


def contact_removed(tenant_id: str, external_userid: str, staff_userid: str, change_type: str,
                    at: datetime) -> dict | None:
    """``del_external_contact`` / ``del_follow_user``: a ``left_staff`` event on the customer.
    Returns the stored attribution, or None for a customer we never saw added."""
    try:
        item = WecomContact.get(tenant_id, WecomContact.contact_key(external_userid))
    except DoesNotExist:
        item = None
    user_id = item.user_id if item else users.find_user_id(tenant_id, "external_userid",
                                                               external_userid)
    if user_id:
        removed_by = "staff" if change_type == "del_external_contact" else "customer"
        try:
            activity.record_event(tenant_id, user_id, "left_staff", at,
                                  {"staff": staff_userid, "removed_by": removed_by,
                                   "code_id": item.code_id if item else None,
                                   "target_id": item.target_id if item else None,
                                   "channel": item.channel if item else None},
                                  publish_extra={"external_userid": external_userid})
        except NotFound:
            pass  # the user was deleted since
    if item is None:
        return None
    remaining = set(item.staff or set()) - {staff_userid}
    actions: list[Action] = [WecomContact.updated_at.set(at),
               WecomContact.status.set("active" if remaining else "removed")]
    if staff_userid in (item.staff or set()):
        actions.append(WecomContact.staff.delete({staff_userid}))
    item.update(actions=actions)
    return {"code_id": item.code_id, "target_id": item.target_id, "channel": item.channel}


def joined_group(tenant_id: str, external_userid: str, chat_id: str, *, channel: str | None,
                 code_id: str | None, target_id: str | None, tags: list[str], at: datetime,
                 unionid: str | None = None, extra: dict | None = None) -> None:
    """A customer joined a group through one of our join ways (``state`` on the member; the
    member list of ``groupchat/get`` carries ``unionid`` where 企业微信 knows it)."""
    user_id = _user_id(tenant_id, external_userid, unionid)
    _upsert(tenant_id, external_userid, user_id, channel=channel, code_id=code_id,
            target_id=target_id, at=at, extra=[])
    activity.record_event(tenant_id, user_id, "joined_group", at,
                          {"chat_id": chat_id, "channel": channel, "code_id": code_id,
                           "target_id": target_id}, channel_tags=tags,
                          publish_extra={"external_userid": external_userid, **(extra or {})})


def get_contact(tenant_id: str, external_userid: str, events_limit: int = 50) -> dict:
    """The attribution, with the audience user's tags and latest events."""
    try:
        item = WecomContact.get(tenant_id, WecomContact.contact_key(external_userid))
    except DoesNotExist:
        raise NotFound("no such 企业微信 contact", code=WECOM_CONTACT_NOT_FOUND) from None
    try:
        user = store.load(tenant_id, item.user_id)
    except NotFound:
        user = None  # the audience user was deleted since
    return {"external_userid": external_userid, "user_id": user.user_id if user else None,
            "channel": item.channel, "code_id": item.code_id, "target_id": item.target_id,
            "status": item.status, "staff": sorted(item.staff or []),
            "tags": list(user_tags(user)) if user else [],
            "created_at": item.created_at.isoformat() if item.created_at else None,
            "updated_at": item.updated_at.isoformat() if item.updated_at else None,
            "events": activity.list_events(tenant_id, user.user_id, events_limit) if user else []}
