"""企业微信 tables. Every key starts with the tenant.

- ``wecom_integrations`` (:class:`WecomIntegration`): one item per tenant with the corp id and the
  sealed secret, callback Token and EncodingAESKey (:mod:`chalicelib.vault`).
  GetItem tenant_id: settings API, every API call (cached per container), every callback.
- ``wecom_tokens`` (:class:`WecomToken`): the tenant's access token, shared by every container.
  GetItem tenant_id on a container's first call; PutItem after ``gettoken``; conditional
  DeleteItem (token unchanged) when 企业微信 says it is invalid.
- ``wecom_events`` (:class:`WecomEvent`): one item per callback event handled, with a TTL.
  Conditional PutItem (does not exist) claims an event: a replayed callback changes nothing.
- ``wecom_chats`` (:class:`WecomChatLink`): which live code target a group chat belongs to (set
  when a join way is created). Query tenant_id, sk begins_with ``<chat_id>#`` on member changes.
- ``wecom_contacts`` (:class:`WecomContact`): what the audience does not hold about a customer:
  ``C#<external_userid>`` with the audience ``user_id``, the first attribution (channel, code,
  target), the staff members who have the customer and ``status``. UpdateItem on adds and group
  joins, GetItem on removals and reads. The customer's tags and events live in the audience table.
  Used through :mod:`chalicelib.wecom.attribution` only.
"""
from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.db import BaseModel


class WecomIntegration(BaseModel):
    class Meta:
        table_name = "wecom_integrations"

    tenant_id = UnicodeAttribute(hash_key=True)
    corp_id = UnicodeAttribute()
    agent_id = NumberAttribute(null=True)
    secret_sealed = UnicodeAttribute()
    token_sealed = UnicodeAttribute()
    aes_key_sealed = UnicodeAttribute()
    fingerprint = UnicodeAttribute()  # changes with corp id or secret: invalidates cached tokens
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    # when a verified callback was last handled (at most one write a minute per container)
    last_callback_at = UTCDateTimeAttribute(null=True)


class WecomToken(BaseModel):
    class Meta:
        table_name = "wecom_tokens"

    tenant_id = UnicodeAttribute(hash_key=True)
    token_sealed = UnicodeAttribute()
    fingerprint = UnicodeAttribute()
    expires_at = NumberAttribute()  # epoch seconds, already minus the safety margin


class WecomEvent(BaseModel):
    class Meta:
        table_name = "wecom_events"

    tenant_id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()
    received_at = UTCDateTimeAttribute()
    ttl = NumberAttribute()  # DynamoDB TTL: 企业微信 retries within minutes; a week is plenty


class WecomChatLink(BaseModel):
    class Meta:
        table_name = "wecom_chats"

    tenant_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    code_id = UnicodeAttribute()
    target_id = UnicodeAttribute()

    @staticmethod
    def key(chat_id: str, code_id: str, target_id: str) -> str:
        return f"{chat_id}#{code_id}#{target_id}"

    @staticmethod
    def prefix(chat_id: str) -> str:
        return f"{chat_id}#"


class WecomContact(BaseModel):
    class Meta:
        table_name = "wecom_contacts"

    tenant_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute(null=True)
    external_userid = UnicodeAttribute(null=True)
    channel = UnicodeAttribute(null=True)
    code_id = UnicodeAttribute(null=True)
    target_id = UnicodeAttribute(null=True)
    staff = UnicodeSetAttribute(null=True)
    status = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)

    @staticmethod
    def contact_key(external_userid: str) -> str:
        return f"C#{external_userid}"
