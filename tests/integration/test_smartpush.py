"""Smart push through campaign runs on moto: GIVEN a content pool and users with interests, WHEN a
campaign whose message names the pool runs, THEN each recipient gets their best-matching item once,
the delivery row says which and why, recent sends are avoided on the next run, and the pool is read
once per run, not per recipient or batch."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib import aws
from chalicelib.audience import users as audience
from chalicelib.campaigns import batches as batch_items
from chalicelib.campaigns import service
from chalicelib.channels.models import OutboxItem
from chalicelib.content import service as content
from tests.integration.test_campaigns_service import DAYTIME, drain, now, tid, users  # noqa: F401


def item(tid, title, tags, minutes, **extra):  # noqa: F811
    body = {"type": "article", "title": title, "url": f"https://shop.example.com/{minutes}",
            "tags": tags, **extra}
    return content.create(tid, body, now=DAYTIME - timedelta(minutes=100 - minutes))["id"]


def smart(tid, **message):  # noqa: F811
    body = {"name": "千人千面", "audience": {"tags_all": ["vip"]},
            "message": {"pick": "best_match", "pool": {"tags_any": ["护眼", "护肤", "美白"]},
                        "text": "为你推荐", **message}}
    return service.create(tid, body)


def interested(tid, user, tag, times):  # noqa: F811
    for _ in range(times):
        audience.tag_user(tid, user, [tag], source="interest")


def deliveries(tid, campaign_id, run_id=None):  # noqa: F811
    rows = service.deliveries(tid, campaign_id, 100, None, run_id=run_id)["items"]
    return {d["user_id"]: d for d in rows}


def outbox(tid, campaign_id, run_id):  # noqa: F811
    return {o.user_id: o.content for o in OutboxItem.query(
        tid, OutboxItem.sk.startswith(f"{campaign_id}#{run_id}#"))}


@pytest.fixture
def pool(tid, now):  # noqa: F811
    return {"eyes": item(tid, "护眼", ["护眼"], 1), "skin": item(tid, "护肤", ["护肤", "美白"], 2),
            "both": item(tid, "护眼护肤", ["护眼", "护肤"], 3),
            "new": item(tid, "新人", ["美白", "stage:new"], 4),
            "other": item(tid, "旅行", ["旅行"], 5)}


def test_each_recipient_gets_their_best_match_and_the_row_says_why(tid, now, pool):  # noqa: F811
    eyes, skin = users(tid, 2, tags=["vip"])
    interested(tid, eyes, "护眼", 3)
    interested(tid, skin, "护肤", 1)
    interested(tid, skin, "美白", 2)
    c = smart(tid)
    run_id = service.run_now(tid, c["id"])
    drain()
    rows = deliveries(tid, c["id"], run_id)
    assert rows[eyes]["pick"] == {"content_id": pool["both"], "reason": "best_match", "score": 3,
                                  "matched_tags": ["护眼"], "skipped_recent": []}
    # skin: 护肤 1 + 美白 2 = 3 on "skin"; "new": 美白 2 + stage:new 2 = 4 wins
    assert rows[skin]["pick"]["content_id"] == pool["new"]
    assert rows[skin]["pick"]["matched_tags"] == ["美白", "stage:new"]
    sent = outbox(tid, c["id"], run_id)
    assert sent[eyes]["id"] == pool["both"] and sent[skin]["id"] == pool["new"]
    assert "/c/" in sent[eyes]["url"]  # the chosen item's link is tracked too


def test_the_chosen_items_link_is_tracked_through_the_delivery_row(tid, now, pool):  # noqa: F811
    (u,) = users(tid, 1, tags=["vip"])
    interested(tid, u, "护眼", 3)
    c = smart(tid)
    run_id = service.run_now(tid, c["id"])
    drain()
    token = outbox(tid, c["id"], run_id)[u]["url"].rsplit("/c/", 1)[1]
    from chalicelib.campaigns import clicks

    assert clicks.click(token) == "https://shop.example.com/3"
    assert deliveries(tid, c["id"], run_id)[u]["clicked_at"] is not None


def test_items_sent_recently_are_avoided_on_the_next_run_then_the_fallback(tid, now, pool):  # noqa: F811
    (u,) = users(tid, 1, tags=["vip"])
    interested(tid, u, "护眼", 3)
    fallback = item(tid, "通用", ["通用"], 6)
    c = smart(tid, pool={"tags_any": ["护眼"]}, avoid_sent_within_days=7,
              fallback_content_id=fallback)
    picked = []
    for _ in range(3):
        run_id = service.run_now(tid, c["id"])
        drain()
        picked.append(deliveries(tid, c["id"], run_id)[u]["pick"])
        now.set(now.value + timedelta(days=1))
    assert [p["content_id"] for p in picked] == [pool["both"], pool["eyes"], fallback]
    assert picked[1]["skipped_recent"] == [pool["both"]]
    assert picked[2]["reason"] == "fallback"
    assert set(picked[2]["skipped_recent"]) == {pool["both"], pool["eyes"]}


def test_nothing_left_to_send_skips_the_recipient_with_a_reason(tid, now):  # noqa: F811
    only = item(tid, "护眼", ["护眼"], 1)
    (u,) = users(tid, 1, tags=["vip"])
    c = smart(tid, pool={"tags_any": ["护眼"]}, avoid_sent_within_days=30)
    first = service.run_now(tid, c["id"])
    drain()
    assert deliveries(tid, c["id"], first)[u]["pick"]["content_id"] == only
    now.set(now.value + timedelta(days=1))
    second = service.run_now(tid, c["id"])
    drain()
    row = deliveries(tid, c["id"], second)[u]
    assert (row["status"], row["reason"]) == ("skipped", "pool_exhausted")
    assert row["pick"]["skipped_recent"] == [only]
    assert service.stats(tid, c["id"], second)["skipped"] == {"pool_exhausted": 1}


class Calls:
    def __init__(self):
        self.names = []

    def __call__(self, request, **kwargs):
        target = request.headers.get("X-Amz-Target", b"")
        self.names.append((target.decode() if isinstance(target, bytes) else target)
                          .rsplit(".", 1)[-1])


def test_the_pool_is_read_once_per_run_not_per_batch_or_recipient(tid, now, pool, monkeypatch):  # noqa: F811
    monkeypatch.setitem(batch_items.BATCH_SIZES, "outbox", 3)
    recipients = users(tid, 12, tags=["vip"])
    for i, u in enumerate(recipients):
        interested(tid, u, ["护眼", "护肤", "美白"][i % 3], 1 + i % 2)
    c = smart(tid)
    calls = Calls()
    aws.register_hook("before-send", calls)
    try:
        service.run_now(tid, c["id"])
        drain()
    finally:
        aws.unregister_hook("before-send", calls)
    assert len(deliveries(tid, c["id"])) == 12
    # the pool: one Query per pool tag (3), one BatchGet of list sizes is not asked (any, no
    # type), one BatchGet of the 5 items; the rest is the plain campaign's work
    assert calls.names.count("Query") == 3 + 1  # pool postings + the audience posting list
    batches = 4
    # per batch: unsubscribes, the users' profiles, the contacts; once: the pool's items
    assert calls.names.count("BatchGetItem") == 3 * batches + 1


def test_other_tenants_content_is_refused_as_pool_fallback(tid, now, other_tenant):  # noqa: F811
    theirs = content.create(other_tenant["tenant_id"], {"type": "text", "title": "x", "body": "x", "tags": []})
    from chalicelib.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as err:
        smart(tid, fallback_content_id=theirs["id"])
    assert (err.value.code, err.value.field) == ("content-not-found",
                                                 "message.fallback_content_id")
