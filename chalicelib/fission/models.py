"""Fission task tables. Every partition key starts with the tenant ("<tenant>#<task>" below).

FissionTask (``fission-tasks``): one item per task, also holding its counters (participants, ref
scans, new-visitor ref scans, invites counted, rewards granted, reward codes issued) so stats cost one
GetItem and every counter moves in the same write as the fact it counts. ``window_start`` /
``window_end`` (epoch seconds) let an invite's transaction check the task's time window.
- GetItem (tenant_id, task_id); Query tenant_id (list; tasks using a template, filtered).

Participant (``fission-participants``, pk "<tenant>#<task>", sk participant_id):
- GetItem by the ids a ref carries; Query pk (list, newest not guaranteed).
- Query GSI ``leaderboard-index`` (pk, invites) descending with a limit: the leaderboard.
- Query GSI ``rewards-index`` (pk, rewarded_ts): sparse, only rewarded participants: reward notices.
- GetItem by ``identity_participant_id`` (tenant, task, user): the mini-program user's participant.
The reward notice lives on the participant (``notice``: pending → sending (claimed, with
``notice_lease``) → sent | skipped | failed, with ``notice_reason``); every move is a conditional
update, so a notice is delivered at most once (see ``chalicelib.fission.notices``).

Invite (``fission-invites``, pk "<tenant>#<task>", sk visitor_id): written with
attribute_not_exists in the invite's transaction, so a visitor counts once per task.
- Query pk: the task's counted invites (audit).

RewardCode (``fission-codes``, pk "<tenant>#<task>", sk n = 0, 1, 2, ...): the pool. Code n is
handed out in a transaction that moves the task's ``codes_issued`` from n to n + 1 and marks the code
with its participant, so each code goes to at most one participant.
- GetItem (pk, n); Query pk (list).
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.db import BaseModel

FAR_FUTURE = 32503680000  # 3000-01-01: "no end" in the window check


def task_pk(tenant_id: str, task_id: str) -> str:
    return f"{tenant_id}#{task_id}"


class FissionTask(BaseModel):
    class Meta:
        table_name = "fission-tasks"

    tenant_id = UnicodeAttribute(hash_key=True)
    task_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    livecode_id = UnicodeAttribute()
    template_id = UnicodeAttribute()
    template_fp = UnicodeAttribute()
    goal = NumberAttribute()
    reward_message = UnicodeAttribute(null=True)
    notice_channel = UnicodeAttribute(null=True)  # outbox (when null) | webhook | wecom
    coupon_pool_id = UnicodeAttribute(null=True)  # the reward's code comes from this coupon pool
    starts_at = UTCDateTimeAttribute()
    ends_at = UTCDateTimeAttribute(null=True)
    window_start = NumberAttribute()
    window_end = NumberAttribute()
    codes_total = NumberAttribute(default=0)
    codes_issued = NumberAttribute(default=0)
    participants = NumberAttribute(default=0)
    ref_scans = NumberAttribute(default=0)
    new_visitors = NumberAttribute(default=0)
    invites = NumberAttribute(default=0)
    rewards = NumberAttribute(default=0)
    not_counted_window = NumberAttribute(default=0)
    not_counted_self = NumberAttribute(default=0)
    not_counted_agent = NumberAttribute(default=0)  # not a WeChat user agent
    not_counted_ceiling = NumberAttribute(default=0)  # a per-IP or per-participant daily ceiling
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    @staticmethod
    def raw_key(tenant_id: str, task_id: str) -> dict:
        """The item's key in DynamoDB's wire form (a BatchGetItem request)."""
        return {"tenant_id": {"S": tenant_id}, "task_id": {"S": task_id}}


class LeaderboardIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "leaderboard-index"
        projection = AllProjection()

    pk = UnicodeAttribute(hash_key=True)
    invites = NumberAttribute(range_key=True)


class RewardsIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "rewards-index"
        projection = AllProjection()

    pk = UnicodeAttribute(hash_key=True)
    rewarded_ts = NumberAttribute(range_key=True)


class Participant(BaseModel):
    class Meta:
        table_name = "fission-participants"

    pk = UnicodeAttribute(hash_key=True)
    participant_id = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    task_id = UnicodeAttribute()
    nonce = UnicodeAttribute()
    secret = UnicodeAttribute()
    nickname = UnicodeAttribute()
    avatar_key = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)
    openid = UnicodeAttribute(null=True)
    invites = NumberAttribute(default=0)
    own_visitors = UnicodeSetAttribute(null=True)
    suspicious = UnicodeAttribute(null=True)  # why invite counting refused some (for the operator)
    suspicious_at = UTCDateTimeAttribute(null=True)
    last_invite_at = UTCDateTimeAttribute(null=True)
    rewarded_at = UTCDateTimeAttribute(null=True)
    rewarded_ts = NumberAttribute(null=True)
    reward_code = UnicodeAttribute(null=True)
    reward_message = UnicodeAttribute(null=True)
    reward_note = UnicodeAttribute(null=True)
    notice = UnicodeAttribute(null=True)
    notice_channel = UnicodeAttribute(null=True)
    notice_reason = UnicodeAttribute(null=True)
    notice_detail = UnicodeAttribute(null=True)
    notice_user = UnicodeAttribute(null=True)
    notice_lease = NumberAttribute(null=True)
    notice_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    leaderboard_index = LeaderboardIndex()
    rewards_index = RewardsIndex()

    @staticmethod
    def raw_key(pk: str, participant_id: str) -> dict:
        """The item's key in DynamoDB's wire form (a BatchGetItem request, a page's start)."""
        return {"pk": {"S": pk}, "participant_id": {"S": participant_id}}

    @staticmethod
    def rewards_page_key(pk: str, participant_id: str, rewarded_ts: str) -> dict:
        """Where a page of ``rewards-index`` starts (its keys plus the table's)."""
        return {**Participant.raw_key(pk, participant_id), "rewarded_ts": {"N": rewarded_ts}}


class Invite(BaseModel):
    class Meta:
        table_name = "fission-invites"

    pk = UnicodeAttribute(hash_key=True)
    visitor_id = UnicodeAttribute(range_key=True)  # or "~i#<day>#<ip hash>", "~p#<day>#<participant>"
    participant_id = UnicodeAttribute(null=True)  # (daily ceiling counters have only ``n``)
    at = UTCDateTimeAttribute(null=True)
    n = NumberAttribute(null=True)

    @staticmethod
    def ip_counter(day: str, ip_hash: str) -> str:
        return f"~i#{day}#{ip_hash}"

    @staticmethod
    def participant_counter(day: str, participant_id: str) -> str:
        return f"~p#{day}#{participant_id}"


class RewardCode(BaseModel):
    class Meta:
        table_name = "fission-codes"

    pk = UnicodeAttribute(hash_key=True)
    n = NumberAttribute(range_key=True)
    code = UnicodeAttribute()
    participant_id = UnicodeAttribute(null=True)
    claimed_at = UTCDateTimeAttribute(null=True)

    @staticmethod
    def raw_key(pk: str, n: str) -> dict:
        """The item's key in DynamoDB's wire form (a page's start)."""
        return {"pk": {"S": pk}, "n": {"N": n}}
