"""Live code hooks: 企业微信 contact ways and group join ways behind targets.

:mod:`chalicelib.livecodes.service` calls these (imported lazily) so the live code module stays
free of 企业微信 details:

- :func:`attached` — around the write that stores new targets: creates the way of every target
  whose ``extra["wecom"]`` has no ``config_id`` yet, fetches its QR into S3 (the landing page shows
  it from our own host), and deletes the created ways again when anything fails, so a refused
  request leaves nothing behind (the 50万 ways-per-enterprise quota);
- :func:`update` — PATCH of a target: ``update_contact_way`` / ``update_join_way``;
- :func:`release` — targets and codes deleted: ``del_contact_way`` / ``del_join_way``; a failure
  that may pass is retried through the events queue (``wecom_cleanup``), never silently leaked.

Group targets keep their chats' real member counts in ``extra["wecom"]["members"]`` and their
``assigned`` is the sum: :func:`set_chat_members` (from member-change callbacks) overwrites it, so
real joins drive capacity; scans in between still add one each (optimistic, corrected by the next
callback). Capacity defaults to 200 per chat unless rooms are auto-created.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.db import condition_failed
from chalicelib.errors import DomainError, ValidationFailed
from chalicelib.wecom import client, targets
from chalicelib.wecom.config import Config
from chalicelib.wecom.models import WecomChatLink

log = logging.getLogger("yutang.wecom")
MEMBER_UPDATE_ATTEMPTS = 4


def wecom_of(target: Any) -> dict | None:
    return (getattr(target, "extra", None) or {}).get("wecom") if target is not None else None


def spec_extra(spec: dict) -> dict:
    """The ``extra`` a new target carries until :func:`attached` creates its way."""
    return {"wecom": {"pending": True, **spec}}


# ---- create -------------------------------------------------------------------------------------

@contextmanager
def attached(tenant_id: str, code_id: str, new_targets: Iterable[Any]) -> Iterator[None]:
    created: list[Any] = []
    try:
        for target in new_targets:
            info = wecom_of(target)
            if info and info.get("pending"):
                _create(tenant_id, code_id, target, info)
                created.append(target)
        yield
    except BaseException:
        release(tenant_id, created)
        raise


def _config(tenant_id: str) -> Config:
    """The tenant's settings for the client (NotConfigured: 409 ``wecom-not-configured``)."""
    from chalicelib.wecom import integration

    return integration.load(tenant_id)


def _create(tenant_id: str, code_id: str, target: Any, spec: dict) -> None:
    config = _config(tenant_id)  # a clear 409 before any call when the tenant has no settings
    state = targets.state_for(code_id, target.id)
    options = {k: v for k, v in spec.items() if k != "pending"}
    if target.kind == "staff":
        options.setdefault("skip_verify", True)
        result = client.add_contact_way(config, user_ids=options["user_ids"], state=state,
                                        skip_verify=options["skip_verify"], remark=target.name)
        info = {"way": "contact", "config_id": result["config_id"], "qr_code": result["qr_code"],
                "state": state, **options}
    else:
        options.setdefault("auto_create_room", False)
        config_id = client.add_join_way(config, chat_ids=options["chat_ids"], state=state,
                                        **_room_options(options))
        info = {"way": "join", "config_id": config_id, "qr_code": None, "state": state, **options}
    target.extra = {**(target.extra or {}), "wecom": info}
    try:
        if info["way"] == "join":
            info["qr_code"] = client.get_join_way(config, config_id).get("qr_code")
            info["members"] = _count_members(config, info["chat_ids"])
            target.assigned = sum(info["members"].values())
            if target.capacity is None and not info["auto_create_room"]:
                target.capacity = targets.GROUP_SIZE * len(info["chat_ids"])
            _link_chats(tenant_id, code_id, target.id, info["chat_ids"])
        target.image_key = _store_qr(tenant_id, info.get("qr_code"))
    except BaseException:
        release(tenant_id, [target])
        raise


def _room_options(options: dict) -> dict:
    return {"auto_create_room": options.get("auto_create_room", False),
            "room_base_name": options.get("room_base_name"),
            "room_base_id": options.get("room_base_id")}


def _count_members(config: Config, chat_ids: list[str]) -> dict[str, int]:
    return {chat: len(client.get_group_chat(config, chat).get("member_list") or [])
            for chat in chat_ids}


def _store_qr(tenant_id: str, qr_url: str | None) -> str:
    from chalicelib import fetch, images, media

    if not qr_url:
        raise client.WecomRetryable("企业微信 returned no qr_code for the way")
    try:
        image = images.validate(fetch.get_bytes(qr_url, images.MAX_BYTES), "qr_code")
    except DomainError as exc:
        raise client.WecomRetryable(f"could not fetch the QR code from 企业微信: {exc.message}") \
            from None
    return media.put(tenant_id, "img", image.data, image.ext)


def _link_chats(tenant_id: str, code_id: str, target_id: str, chat_ids: Iterable[str]) -> None:
    for chat in chat_ids:
        WecomChatLink(tenant_id=tenant_id, sk=WecomChatLink.key(chat, code_id, target_id),
                      code_id=code_id, target_id=target_id).save()


def _unlink_chats(tenant_id: str, code_id: str, target_id: str, chat_ids: Iterable[str]) -> None:
    for chat in chat_ids:
        WecomChatLink(tenant_id=tenant_id, sk=WecomChatLink.key(chat, code_id, target_id)).delete()


# ---- update -------------------------------------------------------------------------------------

def update(tenant_id: str, code_id: str, current: Any, target_input: Any) -> dict[str, Any]:
    """Apply a PATCH's 企业微信 options to the target's way; returns the target fields to set
    (``extra`` as its JSON text, and for groups ``assigned``)."""
    info = wecom_of(current)
    spec = getattr(target_input, "wecom", None)
    has_image = target_input.image is not None
    if info is None:
        if spec:
            raise ValidationFailed("this target is not backed by 企业微信; add a new target with "
                                   "企业微信 options instead", field=sorted(spec)[0])
        return {}
    if has_image:
        raise ValidationFailed("a 企业微信-backed target shows 企业微信's QR code; do not send 'image'",
                               field="image")
    if info["way"] == "join" and "assigned" in target_input.values:
        raise ValidationFailed("a 企业微信 group target counts its real members; 'assigned' cannot "
                               "be set", field="assigned")
    if not spec:
        return {}
    targets.check_kind(spec, current.kind, creating=False, has_image=False)
    merged = {**info, **spec}
    changes: dict[str, Any] = {}
    if info["way"] == "contact":
        if (len(info["user_ids"]) == 1) != (len(merged["user_ids"]) == 1):
            raise ValidationFailed("企业微信 cannot turn a one-person contact way into a multi-person "
                                   "one or back; add a new target instead", field="wecom_user_ids")
        client.update_contact_way(_config(tenant_id), info["config_id"], user_ids=merged["user_ids"],
                                  state=info["state"], skip_verify=merged.get("skip_verify", True))
    else:
        config = _config(tenant_id)
        client.update_join_way(config, info["config_id"], chat_ids=merged["chat_ids"],
                               state=info["state"], **_room_options(merged))
        old, new = set(info["chat_ids"]), set(merged["chat_ids"])
        merged["members"] = {chat: count for chat, count in (info.get("members") or {}).items()
                             if chat in new}
        merged["members"].update(_count_members(config, sorted(new - old)))
        _unlink_chats(tenant_id, code_id, current.id, old - new)
        _link_chats(tenant_id, code_id, current.id, new - old)
        changes["assigned"] = sum(merged["members"].values())
    changes["extra"] = json.dumps({**(current.extra or {}), "wecom": merged})
    return changes


# ---- release ------------------------------------------------------------------------------------

def release(tenant_id: str, gone: Iterable[Any]) -> None:
    """Delete the ways of targets that are gone; retryable failures go to the events queue."""
    from chalicelib import events

    for target in gone:
        info = wecom_of(target)
        if not info or not info.get("config_id"):
            continue
        job = {"tenant_id": tenant_id, "way": info["way"], "config_id": info["config_id"]}
        try:
            delete_way(job)
        except client.WecomRetryable:
            log.warning("企业微信 way %s not deleted yet; retrying through the queue", info["config_id"])
            events.publish("wecom_cleanup", job)
        issued_for = targets.parse_state(info.get("state"))
        if info["way"] == "join" and issued_for:
            _unlink_chats(tenant_id, issued_for[0], target.id, info.get("chat_ids") or [])


def delete_way(job: dict) -> None:
    """Delete one contact or join way (a ``wecom_cleanup`` job); retryable errors re-raise."""
    from chalicelib.wecom import integration

    try:
        if job["way"] == "contact":
            client.del_contact_way(_config(job["tenant_id"]), job["config_id"])
        else:
            client.del_join_way(_config(job["tenant_id"]), job["config_id"])
    except integration.NotConfigured:
        log.warning("企业微信 settings removed; way %s cannot be deleted here", job["config_id"])
    except client.WecomRetryable:
        raise
    except client.WecomRejected as exc:  # already gone, or the app lost the permission
        log.warning("企业微信 refused to delete way %s: %s", job["config_id"], exc.errcode)


# ---- member counts ------------------------------------------------------------------------------

def set_chat_members(tenant_id: str, code_id: str, target_id: str, chat_id: str, count: int) -> bool:
    """Record a chat's real member count on its group target and set ``assigned`` to the
    target's total. Returns False when the target or chat link no longer exists."""
    from chalicelib.livecodes.models import LiveCode

    for _ in range(MEMBER_UPDATE_ATTEMPTS):
        try:
            code = LiveCode.get(tenant_id, code_id, consistent_read=True)
        except DoesNotExist:
            return False
        index = next((i for i, t in enumerate(code.targets or []) if t.id == target_id), None)
        if index is None:
            return False
        target = code.targets[index]
        info = wecom_of(target)
        if not info or chat_id not in info.get("chat_ids", []):
            return False
        members = {**(info.get("members") or {}), chat_id: count}
        extra = {**target.extra, "wecom": {**info, "members": members}}
        path = LiveCode.targets[index]
        try:
            code.update(actions=[path["extra"].set({"S": json.dumps(extra)}),
                                 path["assigned"].set({"N": str(sum(members.values()))})],
                        condition=(path["id"] == target_id)
                        & (path["extra"] == {"S": json.dumps(target.extra)}))
            from chalicelib.livecodes import counters  # the real count is the new base

            counters.rebase(tenant_id, code_id, target_id, reset=True)
            return True
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
    raise client.WecomRetryable("the live code kept changing while counting members; retrying")
