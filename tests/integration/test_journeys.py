# ruff: noqa: F811 - the fixtures (tid, now) are imported from test_campaigns_service
"""Journeys over moto: entry by event, wait, branch on a click, send through the outbox, tag,
exit — each step once per person per entry, under replays and crashes at every commit."""
from datetime import timedelta

import pytest

from chalicelib.audience import users as audience
from chalicelib.campaigns.models import Contact
from chalicelib.channels.models import OutboxItem
from chalicelib.ids import new_id
from chalicelib.journeys import consumers, engine, service, stats, store
from chalicelib.journeys.models import Position
from tests.integration.test_campaigns_service import DAYTIME, now, tid  # noqa: F401 - fixtures

STEPS = [
    {"id": "w1", "type": "wait", "minutes": 60, "next": "b1"},
    {"id": "b1", "type": "branch", "if": {"event_since_entry": "campaign_clicked"},
     "then": "s1", "else": "x2"},
    {"id": "s1", "type": "send", "channel": "outbox", "message": {"text": "首单立减"},
     "next": "t1"},
    {"id": "t1", "type": "tag", "add": ["engaged"], "next": "x1"},
    {"id": "x1", "type": "exit"},
    {"id": "x2", "type": "exit"},
]


def make_users(tenant_id, n):
    return [audience.create_user(tenant_id, {"brand_user_id": f"b-{new_id(12)}"})["id"]
            for _ in range(n)]


def event(tenant_id, user_id, event_type, at, **props):
    return {"type": "order_paid" if event_type == "order_paid" else "user_event",
            "tenant_id": tenant_id, "user_id": user_id, "event_type": event_type,
            "at": at.isoformat(), "properties": props}


def journey(tenant_id, steps=STEPS, **extra):
    body = {"name": "首单转化", "entry": {"event": "order_paid"}, "steps": steps, **extra}
    return service.create(tenant_id, body)["id"]


def run_until_idle(at, rounds=10):
    total = 0
    for _ in range(rounds):
        n = engine.run_due(at)
        total += n
        if not n:
            break
    return total


def outbox(tenant_id, jid):
    return list(OutboxItem.query(tenant_id, OutboxItem.sk.startswith(OutboxItem.key(jid))))


def day_count(tenant_id, user_id):
    from chalicelib import aws

    item = aws.client("dynamodb").get_item(TableName=Contact.table_name(), ConsistentRead=True,
                                           Key=Contact.key_dict(tenant_id, user_id))["Item"]
    return {k: int(v["N"]) for k, v in item.items() if k.startswith("d:")}


def test_order_paid_wait_branch_send_tag(tid, now):
    jid = journey(tid)
    clicker, other = make_users(tid, 2)
    consumers.on_events([event(tid, u, "order_paid", DAYTIME, amount=99) for u in (clicker, other)])
    run_until_idle(DAYTIME)  # the waits start
    now.value = DAYTIME + timedelta(minutes=5)
    consumers.on_events([event(tid, clicker, "campaign_clicked", now.value)])
    run_until_idle(DAYTIME + timedelta(minutes=30))
    assert outbox(tid, jid) == []  # still waiting
    later = DAYTIME + timedelta(minutes=61)
    now.value = later
    run_until_idle(later)
    sent = outbox(tid, jid)
    assert [(o.user_id, o.text) for o in sent] == [(clicker, "首单立减")]
    assert "engaged" in audience.get_user(tid, clicker)["tags"]
    assert "engaged" not in audience.get_user(tid, other)["tags"]
    s = stats.journey_stats(tid, jid)
    assert s["entered"] == 2 and s["exited"] == 2
    by_step = {row["id"]: row for row in s["steps"]}
    assert by_step["w1"]["executions"] == 2 and by_step["s1"]["executions"] == 1
    assert by_step["x1"]["people"] == 1 and by_step["x2"]["people"] == 1
    history = stats.user_journeys(tid, clicker)["items"][0]
    assert [h["step"] for h in history["history"]] == ["w1", "w1", "w1", "b1", "s1", "t1", "x1"]
    assert history["status"] == "exited"
    assert history["path"] == "b1=then"


def test_same_event_twice_enters_once_and_never_reenters(tid, now):
    jid = journey(tid)
    (user,) = make_users(tid, 1)
    paid = event(tid, user, "order_paid", DAYTIME)
    consumers.on_events([paid])
    consumers.on_events([paid])
    consumers.on_events([event(tid, user, "order_paid", DAYTIME + timedelta(seconds=5))])
    assert stats.journey_stats(tid, jid)["entered"] == 1


def test_goal_converts_and_counts_per_path_and_arm(tid, now):
    steps = [{"id": "ab", "type": "split", "arms": [
        {"name": "A", "weight": 1, "next": "wa"}, {"name": "B", "weight": 1, "next": "wa"}]},
        {"id": "wa", "type": "wait", "days": 1, "next": "x"}, {"id": "x", "type": "exit"}]
    jid = journey(tid, steps=steps, goal={"event": "coupon_redeemed"})
    people = make_users(tid, 20)
    consumers.on_events([event(tid, u, "order_paid", DAYTIME) for u in people])
    run_until_idle(DAYTIME)
    consumers.on_events([event(tid, u, "coupon_redeemed", DAYTIME) for u in people[:5]])
    s = stats.journey_stats(tid, jid)
    assert s["converted"] == 5
    arms = s["splits"][0]["arms"]
    assert sum(a["people"] for a in arms) == 20 and sum(a["conversions"] for a in arms) == 5
    assert sum(p["conversions"] for p in s["paths"]) == 5
    assert "vs_first" in arms[1]


def test_a_new_version_leaves_people_in_flight_on_theirs(tid, now):
    jid = journey(tid)
    (user,) = make_users(tid, 1)
    consumers.on_events([event(tid, user, "order_paid", DAYTIME)])
    run_until_idle(DAYTIME)
    changed = [dict(s) for s in STEPS]
    changed[2] = {**changed[2], "message": {"text": "v2"}}
    assert service.update(tid, jid, {"steps": changed})["version"] == 2
    consumers.on_events([event(tid, user, "campaign_clicked", DAYTIME)])
    now.value = DAYTIME + timedelta(hours=2)
    run_until_idle(now.value)
    assert [o.text for o in outbox(tid, jid)] == ["首单立减"]


def test_paused_journey_holds_people_until_resumed(tid, now):
    jid = journey(tid, steps=[{"id": "t", "type": "tag", "add": ["p"], "next": "x"},
                              {"id": "x", "type": "exit"}])
    (user,) = make_users(tid, 1)
    service.set_status(tid, jid, "paused")
    service.set_status(tid, jid, "active")
    consumers.on_events([event(tid, user, "order_paid", DAYTIME)])
    service.set_status(tid, jid, "paused")
    run_until_idle(DAYTIME)
    assert "p" not in audience.get_user(tid, user)["tags"]
    service.set_status(tid, jid, "active")
    run_until_idle(DAYTIME + timedelta(hours=1))
    assert "p" in audience.get_user(tid, user)["tags"]


def crash_on_commit(monkeypatch, n, after):
    """The n-th transaction of the tick dies — before it reaches DynamoDB, or after it was
    applied (the Lambda died before it knew)."""
    real = store._commit_group
    calls = {"n": 0}

    def wrapper(group):
        calls["n"] += 1
        if calls["n"] == n:
            if after:
                real(group)
            raise RuntimeError("Lambda died")
        return real(group)

    monkeypatch.setattr(store, "_commit_group", wrapper)
    return calls


@pytest.mark.parametrize("after", [False, True])
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_crash_at_each_step_then_replay_runs_every_step_once(tid, now, monkeypatch, n, after):
    jid = journey(tid)
    people = make_users(tid, 3)
    consumers.on_events([event(tid, u, "order_paid", DAYTIME) for u in people])
    consumers.on_events([event(tid, u, "campaign_clicked", DAYTIME) for u in people])
    calls = crash_on_commit(monkeypatch, n, after)
    moments = [DAYTIME, DAYTIME + timedelta(minutes=61)]
    for at in moments:
        now.value = at
        for _ in range(4):  # the tick runs again each minute until nothing is due
            try:
                engine.run_due(at)
            except RuntimeError:
                pass
    assert calls["n"] >= n
    sent = outbox(tid, jid)
    assert sorted(o.user_id for o in sent) == sorted(people)
    for u in people:
        assert list(day_count(tid, u).values()) == [1]
        entry = stats.user_journeys(tid, u)["items"][0]
        assert entry["status"] == "exited"
        assert [h["step"] for h in entry["history"]].count("s1") == 1
    by_step = {row["id"]: row for row in stats.journey_stats(tid, jid)["steps"]}
    assert {k: by_step[k]["executions"] for k in ("w1", "b1", "s1", "t1", "x1")} == dict.fromkeys(
        ("w1", "b1", "s1", "t1", "x1"), 3)


def test_two_ticks_reading_the_same_positions_run_each_step_once(tid, now):
    from chalicelib.journeys import catalog, runner

    jid = journey(tid, steps=[{"id": "s", "type": "send", "message": {"text": "一次"},
                               "next": "x"}, {"id": "x", "type": "exit"}])
    people = make_users(tid, 4)
    consumers.on_events([event(tid, u, "order_paid", DAYTIME) for u in people])
    seen = engine.due_positions(DAYTIME)
    first = runner.plan_round(seen, DAYTIME, catalog.Catalog())
    second = runner.plan_round(seen, DAYTIME, catalog.Catalog())
    done, _ = store.commit(first)
    late, _ = store.commit(second)
    assert len(done) == 4 and late == []
    assert len(outbox(tid, jid)) == 4


def test_positions_leave_the_time_index_when_done(tid, now):
    journey(tid, steps=[{"id": "x", "type": "exit"}])
    (user,) = make_users(tid, 1)
    consumers.on_events([event(tid, user, "order_paid", DAYTIME)])
    run_until_idle(DAYTIME)
    pos = [p for p in Position.query(Position.partition(tid, user)) if not Position.is_lock(p.sk)]
    assert pos[0].status == "exited" and pos[0].due_key is None


WEBHOOK_STEPS = [{"id": "hook", "type": "webhook", "url": "https://crm.example.com/hook",
                  "next": "x"}, {"id": "x", "type": "exit"}]


def count_posts(monkeypatch):
    from chalicelib.channels import webhook

    posted = []

    def post(url, secret, data, delivery_id, event="campaign.message"):
        posted.append(delivery_id)
        return webhook.Outcome(True)

    monkeypatch.setattr(webhook, "post", post)
    return posted


def test_a_webhook_step_calls_once_under_replays(tid, now, monkeypatch):
    posted = count_posts(monkeypatch)
    journey(tid, steps=WEBHOOK_STEPS)
    (user,) = make_users(tid, 1)
    consumers.on_events([event(tid, user, "order_paid", DAYTIME)])
    run_until_idle(DAYTIME)
    run_until_idle(DAYTIME)
    run_until_idle(DAYTIME + timedelta(hours=1))
    assert len(posted) == 1
    entry = stats.user_journeys(tid, user)["items"][0]
    assert entry["status"] == "exited" and [h["outcome"] for h in entry["history"]][-2] == "ok"


def test_a_claim_whose_caller_died_is_outcome_unknown_not_a_second_call(tid, now, monkeypatch):
    from chalicelib.journeys import external
    from chalicelib.settings import get_settings

    posted = count_posts(monkeypatch)
    journey(tid, steps=WEBHOOK_STEPS)
    (user,) = make_users(tid, 1)
    consumers.on_events([event(tid, user, "order_paid", DAYTIME)])

    def died(claims, at, books):
        if claims:
            raise RuntimeError("Lambda died after its claim")
        return []

    monkeypatch.setattr(external, "call_all", died)
    with pytest.raises(RuntimeError):
        engine.run_due(DAYTIME)
    monkeypatch.undo()
    posted = count_posts(monkeypatch)
    run_until_idle(DAYTIME + timedelta(seconds=5))
    assert posted == []  # the claim's lease holds it
    assert stats.user_journeys(tid, user)["items"][0]["phase"] == "claimed"
    after_lease = DAYTIME + timedelta(seconds=get_settings().send_lease_seconds + 1)
    run_until_idle(after_lease)
    assert posted == []
    entry = stats.user_journeys(tid, user)["items"][0]
    assert entry["status"] == "exited"
    assert "failed: outcome_unknown" in [h["outcome"] for h in entry["history"]]


def test_an_event_meeting_a_moved_position_is_applied_again(tid, now, monkeypatch):
    from chalicelib.journeys import entries

    steps = [{"id": "we", "type": "wait_event", "event": "clicked", "timeout_days": 1,
              "next": "s", "timeout": "x"},
             {"id": "s", "type": "send", "message": {"text": "点了"}, "next": "x"},
             {"id": "x", "type": "exit"}]
    jid = journey(tid, steps=steps)
    (user,) = make_users(tid, 1)
    consumers.on_events([event(tid, user, "order_paid", DAYTIME)])
    stale = entries.in_flight(tid, user)  # read before the tick moves the position
    run_until_idle(DAYTIME)
    real, calls = entries.in_flight, []

    def first_stale(tenant_id, user_id):
        calls.append(1)
        return stale if len(calls) == 1 else real(tenant_id, user_id)

    monkeypatch.setattr(entries, "in_flight", first_stale)
    consumers.on_events([event(tid, user, "campaign_clicked", DAYTIME)])
    assert len(calls) == 2
    run_until_idle(DAYTIME + timedelta(seconds=1))
    assert [o.text for o in outbox(tid, jid)] == ["点了"]


def test_an_audience_at_a_schedule_enters_page_by_page_once(tid, now, monkeypatch):
    from chalicelib.journeys import scheduled

    monkeypatch.setattr(scheduled, "PAGE", 2)
    tag = f"aud{new_id(6).lower()}"
    people = [audience.create_user(tid, {"brand_user_id": f"b-{new_id(12)}"}, tags=[tag])["id"]
              for _ in range(5)]
    make_users(tid, 2)  # not in the audience
    jid = journey(tid, steps=[{"id": "t", "type": "tag", "add": ["scheduled"], "next": "x"},
                              {"id": "x", "type": "exit"}],
                  entry={"audience": {"tags_all": [tag]},
                         "schedule": {"at": (DAYTIME + timedelta(minutes=10)).isoformat()}})
    run_until_idle(DAYTIME)
    assert stats.journey_stats(tid, jid)["entered"] == 0  # not yet
    real, crashed = store.commit, []

    def crash_after_entries(writes):
        result = real(writes)
        if not crashed and any(w.expect_rev is None for w in writes):
            crashed.append(1)
            raise RuntimeError("Lambda died after entering a page")
        return result

    monkeypatch.setattr(store, "commit", crash_after_entries)
    at = DAYTIME + timedelta(minutes=10)
    for _ in range(8):
        try:
            engine.run_due(at)
        except RuntimeError:
            pass
    s = stats.journey_stats(tid, jid)
    assert s["entered"] == 5 and s["exited"] == 5 and crashed
    tagged = [u for u in people if "scheduled" in audience.get_user(tid, u)["tags"]]
    assert sorted(tagged) == sorted(people)
    run_until_idle(DAYTIME + timedelta(days=2))  # an "at" fires once
    assert stats.journey_stats(tid, jid)["entered"] == 5
