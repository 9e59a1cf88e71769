"""Audience service against moto: identities, tags, events, stages, audiences and merges."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import aws
from chalicelib.audience import activity, identities, segments, store, thresholds, users
from chalicelib.audience.models import AudienceItem
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.ids import new_id
from chalicelib.settings import get_settings


@pytest.fixture
def tid(aws_stack):
    thresholds.clear_caches()
    return new_id(8)


def _published(event_type):
    sqs = aws.client("sqs")
    url = aws.queue_url(get_settings().events_queue)
    found = []
    while msgs := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for m in msgs:
            body = json.loads(m["Body"])
            if body["type"] == event_type:
                found.append(body)
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
    return found


def test_create_get_and_find_by_identity(tid):
    user = users.create_user(tid, {"openid": "o-1", "brand_user_id": "b-1"}, ["VIP ", "vip"])
    assert user["tags"] == ["vip"] and user["stage"] == "new"
    assert users.get_user(tid, user["id"])["identities"] == {"openid": "o-1", "brand_user_id": "b-1"}
    assert users.find_user(tid, "brand_user_id", "b-1")["id"] == user["id"]
    assert users.find_user(tid, "openid", "nope") is None


def test_an_identity_belongs_to_one_user(tid):
    users.create_user(tid, {"openid": "o-1"})
    with pytest.raises(Conflict) as err:
        users.create_user(tid, {"openid": "o-1", "unionid": "u-1"})
    assert err.value.code == "identity-taken"
    assert users.find_user(tid, "unionid", "u-1") is None  # the transaction wrote nothing


def test_tenants_do_not_share_identities_or_users(tid):
    other = new_id(8)
    a = users.create_user(tid, {"openid": "same"})
    b = users.create_user(other, {"openid": "same"})
    assert a["id"] != b["id"]
    with pytest.raises(NotFound):
        users.get_user(other, a["id"])
    assert list(segments.iter_audience(other)) == [b["id"]]


def test_get_users_batches_and_skips_unknown(tid):
    ids = [users.create_user(tid, {"brand_user_id": f"b{i}"})["id"] for i in range(3)]
    got = users.get_users(tid, ids + ["zzzzzzzzzzzz", "bad"])
    assert set(got) == set(ids) and all(got[i]["id"] == i for i in ids)


def test_tag_and_untag(tid):
    uid = users.create_user(tid, {})["id"]
    users.tag_user(tid, uid, ["a", "b"])
    users.tag_user(tid, uid, ["c"], source="channel")
    user = users.get_user(tid, uid)
    assert user["tags"] == ["a", "b", "c"]
    assert user["tag_details"]["c"]["sources"] == ["channel"]
    assert list(segments.iter_audience(tid, tags_all=["a", "c"])) == [uid]
    users.untag_user(tid, uid, "A")
    assert users.get_user(tid, uid)["tags"] == ["b", "c"]
    assert list(segments.iter_audience(tid, tags_all=["a"])) == []
    with pytest.raises(NotFound):
        users.untag_user(tid, uid, "a")


def test_record_event_publishes_and_weights_interests(tid):
    uid = users.create_user(tid, {})["id"]
    _published("user_event")
    activity.record_event(tid, uid, "content_click", properties={"content_id": "x"},
                          interests={"skincare": 1})
    activity.record_event(tid, uid, "content_favorite", interests={"skincare": 3, "bags": 3})
    user = users.get_user(tid, uid)
    assert user["tag_details"]["skincare"] == {"sources": ["interest"], "weight": 4}
    assert user["event_count"] == 2
    sent = _published("user_event")
    assert [e["event_type"] for e in sent] == ["content_click", "content_favorite"]
    assert sent[0]["user_id"] == uid and sent[0]["properties"] == {"content_id": "x"}
    assert list(segments.iter_audience(tid, tags_any=["bags"])) == [uid]
    assert [e["type"] for e in activity.list_events(tid, uid)] == ["content_favorite", "content_click"]


def test_record_event_rejects_bad_input(tid):
    uid = users.create_user(tid, {})["id"]
    with pytest.raises(ValidationFailed):
        activity.record_event(tid, uid, "Bad Type")
    with pytest.raises(ValidationFailed):
        activity.record_event(tid, uid, "x", at=datetime.now(timezone.utc) + timedelta(days=1))
    with pytest.raises(NotFound):
        activity.record_event(tid, "zzzzzzzzzzzz", "x")


def _age_user(tid, uid, first_days, last_days, paid_days=None):
    now = datetime.now(timezone.utc)
    item = AudienceItem.get(tid, AudienceItem.user_key(uid))
    actions = [AudienceItem.first_seen_at.set(now - timedelta(days=first_days)),
               AudienceItem.last_active_at.set(now - timedelta(days=last_days))]
    if paid_days is not None:
        actions.append(AudienceItem.last_paid_at.set(now - timedelta(days=paid_days)))
    item.update(actions=actions)
    for kind, days in (("F", first_days), ("A", last_days)):
        store.bucket(tid, kind, now - timedelta(days=days), uid).save()


def test_stages_and_stage_audiences(tid):
    new = users.create_user(tid, {})["id"]
    active, silent, churned = (users.create_user(tid, {})["id"] for _ in range(3))
    _age_user(tid, active, 40, 2)
    _age_user(tid, silent, 40, 10)
    _age_user(tid, churned, 60, 45)
    paying = users.create_user(tid, {})["id"]
    activity.record_event(tid, paying, "order_paid")
    expected = {new: "new", active: "active", silent: "silent", churned: "churned",
                paying: "paying"}
    for uid, stage in expected.items():
        assert users.get_user(tid, uid)["stage"] == stage
        assert list(segments.iter_audience(tid, stages=[stage])) == [uid], stage
    assert set(segments.iter_audience(tid, stages=["silent", "churned"])) == {silent, churned}
    assert sorted(segments.iter_audience(tid)) == sorted(expected)


def test_tenant_thresholds_change_the_stage(tid):
    uid = users.create_user(tid, {})["id"]
    _age_user(tid, uid, 40, 10)
    assert users.get_user(tid, uid)["stage"] == "silent"
    thresholds.set_thresholds(tid, {"active_days": 14})
    assert users.get_user(tid, uid)["stage"] == "active"
    assert list(segments.iter_audience(tid, stages=["active"])) == [uid]
    with pytest.raises(ValidationFailed):
        thresholds.set_thresholds(tid, {"active_days": 40, "churn_days": 30})


def test_a_late_event_does_not_move_activity_back(tid):
    uid = users.create_user(tid, {})["id"]
    before = users.get_user(tid, uid)["last_active_at"]
    activity.record_event(tid, uid, "joined_group", at=datetime.now(timezone.utc) - timedelta(days=3))
    assert users.get_user(tid, uid)["last_active_at"] == before


def test_a_backfilled_event_moves_first_seen_back(tid):
    """An imported customer's past events make them an old customer, not ``new`` (issue 12)."""
    uid = users.create_user(tid, {})["id"]
    assert users.get_user(tid, uid)["stage"] == "new"
    long_ago = datetime.now(timezone.utc) - timedelta(days=200)
    activity.record_event(tid, uid, "order_paid", at=long_ago)
    user = users.get_user(tid, uid)
    assert datetime.fromisoformat(user["first_seen_at"]) == long_ago
    assert user["stage"] != "new"
    activity.record_event(tid, uid, "joined_group", at=long_ago + timedelta(days=5))
    assert datetime.fromisoformat(users.get_user(tid, uid)["first_seen_at"]) == long_ago
    new_ids = list(segments.iter_audience(tid, (), (), (), ("new",), limit=10))
    assert uid not in new_ids


def test_identify_creates_then_finds_and_attaches(tid):
    user, created = identities.identify(tid, {"openid": "o-9"}, ["x"])
    assert created
    again, created = identities.identify(tid, {"openid": "o-9", "unionid": "u-9"})
    assert not created and again["id"] == user["id"]
    assert again["identities"] == {"openid": "o-9", "unionid": "u-9"}
    assert users.find_user(tid, "unionid", "u-9")["id"] == user["id"]


def test_unionid_merges_two_users_by_the_rule(tid):
    first = users.create_user(tid, {"openid": "mp-1", "unionid": "u-1"}, ["from-mp"])["id"]
    second = users.create_user(tid, {"external_userid": "wm-1", "openid": "oa-1"}, ["from-wecom"])["id"]
    activity.record_event(tid, second, "content_click", interests={"shoes": 2})
    activity.record_event(tid, first, "content_click", interests={"shoes": 1})
    merged, created = identities.identify(tid, {"external_userid": "wm-1", "unionid": "u-1"})
    assert not created and merged["id"] == first  # the older user survives
    assert merged["tags"] == ["from-mp", "from-wecom", "shoes"]
    assert merged["tag_details"]["shoes"]["weight"] == 3
    assert merged["identities"] == {"openid": "mp-1", "unionid": "u-1", "external_userid": "wm-1"}
    assert merged["other_identities"] == [{"kind": "openid", "value": "oa-1"}]
    assert merged["merged_from"] == [second] and merged["event_count"] == 2
    assert users.get_user(tid, second)["id"] == first  # the tombstone resolves
    assert users.find_user(tid, "openid", "oa-1")["id"] == first
    assert len(activity.list_events(tid, first)) == 2
    assert list(segments.iter_audience(tid, tags_all=["from-wecom"])) == [first]
    assert list(segments.iter_audience(tid)) == [first]
    activity.record_event(tid, second, "order_paid")  # an old id still records, on the survivor
    assert users.get_user(tid, first)["stage"] == "paying"


def test_iter_audience_yields_each_user_once_in_id_order(tid):
    ids = sorted(users.create_user(tid, {}, ["a", "b"])["id"] for _ in range(5))
    other = users.create_user(tid, {}, ["a", "c"])["id"]
    assert list(segments.iter_audience(tid, tags_any=["a", "b"])) == sorted(ids + [other])
    assert list(segments.iter_audience(tid, tags_all=["a"], tags_none=["b"])) == [other]
    assert list(segments.iter_audience(tid, tags_any=["b", "c"], stages=["new"])) == sorted(ids + [other])
    assert list(segments.iter_audience(tid, tags_all=["a"], after=ids[2])) == [
        i for i in sorted(ids + [other]) if i > ids[2]]
    assert list(segments.iter_audience(tid, tags_any=["a"], limit=3)) == sorted(ids + [other])[:3]
    assert list(segments.iter_audience(tid, tags_all=["a"], tags_none=["b"], limit=1)) == [other]
    assert list(segments.iter_audience(tid, tags_all=["a"], limit=0)) == []
    with pytest.raises(ValidationFailed):
        list(segments.iter_audience(tid, stages=["sleeping"]))


def test_iter_audience_rechecks_a_projection_of_the_user(tid):
    """The re-check reads only what the criteria need: no identities, only the criteria's
    interest weights (tags may hold '.'), the times only for stages."""
    from chalicelib.audience.criteria import Criteria

    uid = users.create_user(tid, {"openid": "o-p"}, ["a"])["id"]
    activity.record_event(tid, uid, "content_click", interests={"v1.2": 1, "other": 2})
    both = users.create_user(tid, {}, ["a", "v1.2"])["id"]
    assert list(segments.iter_audience(tid, tags_all=["a", "v1.2"])) == sorted([uid, both])
    assert list(segments.iter_audience(tid, tags_all=["a"], tags_none=["v1.2"])) == []
    assert list(segments.iter_audience(tid, tags_any=["v1.2"], stages=["new"])) == sorted([uid, both])
    criteria = Criteria.build(["v1.2"])
    found = list(segments.matching(tid, criteria, None, segments.recheck_attributes(criteria)))
    mine = next(u for u in found if u.user_id == uid)
    assert mine.identities is None and mine.first_seen_at is None
    assert mine.interests.as_dict() == {"v1.2": 1} and mine.manual_tags == {"a"}


def test_iter_audience_never_scans(tid):
    from bench.common import counting

    users.create_user(tid, {}, ["a"])
    with counting() as calls:
        list(segments.iter_audience(tid, tags_any=["a"]))
        list(segments.iter_audience(tid, stages=["churned"]))
    assert "Scan" not in calls.calls and calls.total > 0


# ---- sure and unsure postings: one-tag audiences read postings, not users ------------------------

def _postings(tid, tag):
    return {p.user_id: p.unsure for p in AudienceItem.query(
        tid, AudienceItem.sk.startswith(AudienceItem.tag_key(tag)))}


def _two_to_merge(tid):
    first = users.create_user(tid, {"unionid": "u-m"}, ["vip"])["id"]
    second = users.create_user(tid, {"openid": "o-m"}, ["vip", "new-tag"])["id"]
    return first, second


def test_one_tag_audience_reads_postings_only(tid):
    from bench.common import counting

    ids = sorted(users.create_user(tid, {}, ["a"])["id"] for _ in range(3))
    b = users.create_user(tid, {}, ["b"])["id"]
    with counting() as calls:
        assert list(segments.iter_audience(tid, tags_all=["a"])) == ids
        assert list(segments.iter_audience(tid, tags_any=["a", "b"], limit=3)) == sorted(ids + [b])[:3]
    assert set(calls.calls) == {"Query"}, calls.calls  # no user item read
    with counting() as calls:  # a second tag must be tested on the user: re-checked
        list(segments.iter_audience(tid, tags_all=["a", "b"]))
    assert calls.calls["BatchGetItem"] == 1


def test_a_merge_leaves_only_sure_postings_of_the_survivor(tid):
    first, second = _two_to_merge(tid)
    identities.merge_users(tid, first, second)
    assert _postings(tid, "vip") == {first: None}
    assert _postings(tid, "new-tag") == {first: None}  # settled: sure again
    assert list(segments.iter_audience(tid, tags_all=["new-tag"])) == [first]


def test_a_merge_interrupted_after_its_transaction_costs_reads_not_recipients(tid, monkeypatch):
    first, second = _two_to_merge(tid)

    def crash(*args):
        raise RuntimeError("the container died")

    monkeypatch.setattr(identities, "_settle_posting", crash)
    with pytest.raises(RuntimeError):
        identities.merge_users(tid, first, second)
    assert _postings(tid, "new-tag") == {first: "merge", second: "merge"}
    assert _postings(tid, "vip") == {first: None, second: "merge"}
    # the merged-away user is re-checked and dropped; the survivor is re-checked and kept
    assert list(segments.iter_audience(tid, tags_all=["new-tag"])) == [first]
    assert list(segments.iter_audience(tid, tags_any=["vip", "new-tag"])) == [first]


def test_a_failed_merge_keeps_both_users_exact(tid, monkeypatch):
    first, second = _two_to_merge(tid)
    from pynamodb.exceptions import TransactWriteError

    class Failing:
        def __init__(self, *a, **k):
            pass

        def __enter__(self):
            return self

        def update(self, *a, **k):
            pass

        def save(self, *a, **k):
            pass

        def __exit__(self, *exc):
            raise TransactWriteError("the transaction was cancelled")

    monkeypatch.setattr(AudienceItem, "transaction", Failing)
    with pytest.raises(TransactWriteError):
        identities.merge_users(tid, first, second)
    monkeypatch.undo()
    # the survivor-to-be got an unsure posting for a tag it does not hold: re-checked, left out
    assert _postings(tid, "new-tag") == {first: "merge", second: "merge"}
    assert list(segments.iter_audience(tid, tags_all=["new-tag"])) == [second]
    assert list(segments.iter_audience(tid, tags_all=["vip"])) == sorted([first, second])


def test_an_untag_between_merge_and_settling_stays_untagged(tid, monkeypatch):
    first, second = _two_to_merge(tid)
    settle = identities._settle_posting

    def untag_first(tenant_id, tag, user_id):
        users.untag_user(tenant_id, user_id, tag)  # a marketer, in the same instant
        settle(tenant_id, tag, user_id)

    monkeypatch.setattr(identities, "_settle_posting", untag_first)
    identities.merge_users(tid, first, second)
    assert _postings(tid, "new-tag") == {}
    assert list(segments.iter_audience(tid, tags_all=["new-tag"])) == []
    assert users.get_user(tid, first)["tags"] == ["vip"]


def test_audience_times_come_from_the_one_clock(tid, monkeypatch):
    """Created, first seen, active and stage all follow chalicelib.clock.now."""
    then = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
    monkeypatch.setattr("chalicelib.clock.now", lambda: then)
    user = users.create_user(tid, {"openid": "o-clock"})
    assert user["created_at"] == user["first_seen_at"] == then.isoformat()
    later = then + timedelta(days=10)
    monkeypatch.setattr("chalicelib.clock.now", lambda: later)
    assert users.get_user(tid, user["id"])["stage"] == "silent"
    activity.record_event(tid, user["id"], "order_paid")
    assert users.get_user(tid, user["id"])["last_paid_at"] == later.isoformat()
    assert list(segments.iter_audience(tid, stages=["paying"])) == [user["id"]]
