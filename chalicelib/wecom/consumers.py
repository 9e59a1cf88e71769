"""What the 企业微信 integration does with events from the queue (declared in
chalicelib/wecom/domain.py): ``wecom_callback`` (a verified, decrypted callback queued by
:mod:`chalicelib.wecom.callbacks`) and ``wecom_cleanup`` (a contact or join way to delete again).

Each callback event is claimed once with a conditional put of its id (a hash of the decrypted
message: 企业微信's retries and replays carry the same message), so duplicates change nothing;
when handling fails the claim is released and the error re-raised for SQS to retry.

- ``change_external_contact/add_external_contact``: the welcome message goes first (its
  ``WelcomeCode`` is valid for 20 s; the queue hop adds well under a second on Lambda, but a
  backlog or a retry can exceed it — then 企业微信 refuses it and we log and go on): the code's
  ``welcome.text`` and its ``content_id`` as an attachment (:mod:`chalicelib.wecom.attachments`).
  Then the customer becomes (or is found as, and merged into) an audience user
  (:mod:`chalicelib.wecom.attribution`), attributed to the live code and channel from ``State``,
  tagged ``channel:<channel>``, ``livecode:<code id>`` and the code's ``tags``, given a
  ``joined_staff`` event, and counted (``wecom_adds`` in the code's daily stats).
- ``del_external_contact`` / ``del_follow_user``: a ``left_staff`` event, counted ``wecom_dels``.
- ``change_external_chat`` (``update`` add_member/del_member, ``dismiss``): the chat's real member
  count (``groupchat/get``) becomes its group target's ``assigned`` — order-independent and
  idempotent, unlike adding ``MemChangeCnt`` deltas; members who joined through our join way
  (``state`` on the member) are attributed with a ``joined_group`` event.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib import clock
from chalicelib.db import condition_failed
from chalicelib.errors import NotFound
from chalicelib.wecom import attribution, client, targets
from chalicelib.wecom.config import Config
from chalicelib.wecom.models import WecomChatLink, WecomEvent

log = logging.getLogger("yutang.wecom")
EVENT_TTL_SECONDS = 7 * 24 * 3600


def handle_cleanup(jobs: list[dict]) -> None:
    """``wecom_cleanup``: delete the way again; retryable errors re-raise (SQS retries)."""
    from chalicelib.wecom import ways

    for job in jobs:
        ways.delete_way(job)


def _settings(tenant_id: str) -> Config:
    from chalicelib.wecom import integration

    return integration.load(tenant_id)


def handle_callbacks(payloads: list[dict]) -> None:
    for payload in payloads:
        handle(payload["tenant_id"], payload["event_id"], payload["message"])


def _kind(message: dict) -> str:
    return f"{message.get('Event', '')}/{message.get('ChangeType', '')}"


def handle(tenant_id: str, eid: str, message: dict) -> bool:
    """Handle one decrypted event once. Returns False for duplicates and events we ignore."""
    from chalicelib.wecom import integration

    integration.touch_callback(tenant_id)
    kind = _kind(message)
    handler = HANDLERS.get(kind)
    if handler is None:
        log.info("ignoring 企业微信 event %s for tenant %s", kind, tenant_id)
        return False
    if not _claim(tenant_id, eid, kind):
        log.info("duplicate 企业微信 event %s for tenant %s", eid, tenant_id)
        return False
    try:
        handler(tenant_id, message)
    except BaseException as exc:
        WecomEvent(tenant_id=tenant_id, event_id=eid).delete()  # let the retry do it all again
        from chalicelib.analytics import problems

        problems.record(tenant_id, "callback", f"handling {kind} failed: {exc}")
        raise
    return True


def _claim(tenant_id: str, eid: str, kind: str) -> bool:
    try:
        WecomEvent(tenant_id=tenant_id, event_id=eid, kind=kind,
                   received_at=clock.now(),
                   ttl=int(time.time()) + EVENT_TTL_SECONDS).save(
            condition=WecomEvent.event_id.does_not_exist())
        return True
    except PutError as exc:
        if condition_failed(exc):
            return False
        raise


def _when(message: dict) -> datetime:
    try:
        return datetime.fromtimestamp(int(message.get("CreateTime") or 0) or time.time(), timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return clock.now()


def _load_code(tenant_id: str, code_id: str) -> Any:
    from chalicelib.livecodes.models import LiveCode

    try:
        return LiveCode.get(tenant_id, code_id)
    except DoesNotExist:
        return None


def _tags(code: Any) -> list[str]:
    """What a customer attributed to the code is tagged with (source ``channel``)."""
    if code is None:
        return []
    from chalicelib.audience.rules import channel_tag

    return [channel_tag(code.channel), f"livecode:{code.code_id}", *(code.tags or [])]


def on_contact_added(tenant_id: str, message: dict) -> None:
    external, staff = str(message.get("ExternalUserID") or ""), str(message.get("UserID") or "")
    if not external or not staff:
        log.warning("add_external_contact without ExternalUserID/UserID for tenant %s", tenant_id)
        return
    state = message.get("State") or None
    issued = targets.parse_state(state)
    code = _load_code(tenant_id, issued[0]) if issued else None
    if code is not None and message.get("WelcomeCode") and code.welcome:
        send_welcome(tenant_id, str(message["WelcomeCode"]), code.welcome)
    at = _when(message)
    attribution.contact_added(tenant_id, external, staff, channel=code.channel if code else None,
                              code_id=code.code_id if code else None,
                              target_id=issued[1] if code and issued else None, tags=_tags(code), at=at,
                              state=state, extra=_code_day(code, at))


def _content(tenant_id: str, content_id: str | None) -> Any:
    if not content_id:
        return None
    from chalicelib.content import service as content

    try:
        return content.load(tenant_id, content_id)
    except NotFound:
        log.warning("welcome content %s of tenant %s is gone; sending the text only", content_id,
                    tenant_id)
        return None


def send_welcome(tenant_id: str, welcome_code: str, welcome: dict) -> bool:
    """Send the live code's welcome: its text and its content item as an attachment. A refused or
    late welcome is logged, never retried: the code lives 20 s and works once."""
    from chalicelib.wecom import attachments

    item = _content(tenant_id, welcome.get("content_id"))
    text = attachments.welcome_text(welcome.get("text"), item)
    extra = attachments.for_content(item) if item is not None else []
    if not text and not extra:
        return False
    try:
        client.send_welcome_msg(_settings(tenant_id), welcome_code, text, extra or None)
        return True
    except client.WecomRejected as exc:
        log.warning("welcome message not sent for tenant %s: %s", tenant_id, exc.message)
        return False


def on_contact_removed(tenant_id: str, message: dict) -> None:
    external, staff = str(message.get("ExternalUserID") or ""), str(message.get("UserID") or "")
    if not external:
        return
    at = _when(message)
    attribution.contact_removed(tenant_id, external, staff, str(message.get("ChangeType")), at)
    # counted by the insight aggregator from the customer_lost event (docs/events.md)


def on_chat_changed(tenant_id: str, message: dict) -> None:
    from chalicelib.wecom import ways

    chat_id = str(message.get("ChatId") or "")
    links = list(WecomChatLink.query(tenant_id, WecomChatLink.sk.startswith(
        WecomChatLink.prefix(chat_id)))) if chat_id else []
    if not links:
        return
    if message.get("ChangeType") == "dismiss":
        chat: dict = {"member_list": []}
    else:
        chat = client.get_group_chat(_settings(tenant_id), chat_id)
    members = chat.get("member_list") or []
    for link in links:
        ways.set_chat_members(tenant_id, link.code_id, link.target_id, chat_id, len(members))
    if message.get("UpdateDetail") == "add_member":
        _attribute_joiners(tenant_id, chat_id, members, message)
    elif message.get("UpdateDetail") == "del_member":
        _publish_leavers(tenant_id, chat_id, links, message)


def _publish_leavers(tenant_id: str, chat_id: str, links: list, message: dict) -> None:
    """``group_left`` (docs/events.md): one event per linked target listing who left."""
    from chalicelib import events

    changed = message.get("MemChangeList") or []
    changed = [changed] if isinstance(changed, str) else list(changed)
    if not changed:
        return
    at = _when(message)
    for link in links:
        code = _load_code(tenant_id, link.code_id)
        events.publish("group_left", {
            "tenant_id": tenant_id, "at": at.isoformat(), "chat_id": chat_id,
            "code_id": link.code_id, "target_id": link.target_id,
            "channel": code.channel if code else None, "external_userids": changed,
            "count": len(changed), **_code_day(code, at)})


def _attribute_joiners(tenant_id: str, chat_id: str, members: list[dict], message: dict) -> None:
    changed = message.get("MemChangeList") or []
    changed = {changed} if isinstance(changed, str) else set(changed)
    at = _when(message)
    for member in members:
        issued = targets.parse_state(member.get("state"))
        if member.get("type") != 2 or member.get("userid") not in changed or not issued:
            continue
        code = _load_code(tenant_id, issued[0])
        attribution.joined_group(tenant_id, member["userid"], chat_id, unionid=member.get("unionid"),
                                 channel=code.channel if code else None,
                                 code_id=issued[0] if code else None,
                                 target_id=issued[1] if code else None, tags=_tags(code), at=at,
                                 extra=_code_day(code, at))


def _code_day(code: Any, at: datetime) -> dict:
    """The event's day in the code's timezone, for the code's daily counters (the aggregator
    cannot read the code per event)."""
    if code is None:
        return {}
    from zoneinfo import ZoneInfo

    return {"code_day": at.astimezone(ZoneInfo(code.timezone)).date().isoformat(),
            "code_tz": code.timezone}


HANDLERS = {
    "change_external_contact/add_external_contact": on_contact_added,
    "change_external_contact/del_external_contact": on_contact_removed,
    "change_external_contact/del_follow_user": on_contact_removed,
    "change_external_chat/update": on_chat_changed,
    "change_external_chat/dismiss": on_chat_changed,
}
