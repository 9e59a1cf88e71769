"""Invite counting rules and reward granting against moto, driving the consumer with scan events
shaped exactly like the ones ``livecodes.service.scan`` publishes."""
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.fission import consumers, participants, rewards, tasks
from chalicelib.fission import progress as own
from chalicelib.ids import new_id
from tests.support.images import png_b64

NOW = datetime.now(timezone.utc)
LAYOUT = {"qr": {"x": 340, "y": 1300, "size": 400}}


@pytest.fixture
def world(aws_stack):
    from chalicelib.auth import service as auth
    from chalicelib.livecodes import service as livecodes
    from chalicelib.posters import service as posters

    tenant = auth.create_tenant("fission")["tenant_id"]
    code = livecodes.create(tenant, {"name": "c", "channel": "p", "targets": [
        {"kind": "url", "name": "u", "url": "https://example.com"}]})
    template = posters.create(tenant, {"name": "t", "background": png_b64(1080, 1920),
                                       "width": 1080, "height": 1920, "layout": LAYOUT})

    def make_task(**overrides):
        body = {"name": "task", "livecode_id": code["id"], "template_id": template["id"], "goal": 2,
                **overrides}
        return tasks.create_task(tenant, body)

    return {"tenant": tenant, "code": code, "make_task": make_task}


def join(world, task, **body):
    view, _ = participants.register(world["tenant"], task["id"], {"nickname": "p", **body})
    return view


def event(world, participant, *, visitor=None, new=True, at=None, code_id=None, ref=None):
    return {"type": "scan", "tenant_id": world["tenant"], "code_id": code_id or world["code"]["id"],
            "channel": "p", "target_id": "t", "assigned": True, "reason": "assigned",
            "ref": ref if ref is not None else participant["ref"],
            "visitor_id": visitor or new_id(16), "new_visitor": new, "first_today": new,
            "day": "2025-01-01", "wechat": True, "at": (at or datetime.now(timezone.utc)).isoformat()}


def progress(world, task, participant):
    return participants.get_participant(world["tenant"], task["id"], participant["participant_id"])


def test_one_invite_per_new_visitor(world):
    task = world["make_task"](goal=5)
    p = join(world, task)
    assert consumers.record_scan(event(world, p, visitor="v" * 16)) == "counted"
    assert consumers.record_scan(event(world, p, visitor="v" * 16)) == "duplicate"
    assert consumers.record_scan(event(world, p, new=False)) == "returning"
    assert progress(world, task, p)["invites"] == 1


def test_a_visitor_counts_once_per_task_even_for_two_participants(world):
    task = world["make_task"](goal=5)
    a, b = join(world, task), join(world, task)
    consumers.record_scan(event(world, a, visitor="w" * 16))
    assert consumers.record_scan(event(world, b, visitor="w" * 16)) == "duplicate"
    assert (progress(world, task, a)["invites"], progress(world, task, b)["invites"]) == (1, 0)


def test_not_before_start_nor_after_end(world):
    start, end = NOW + timedelta(hours=1), NOW + timedelta(hours=2)
    task = world["make_task"](starts_at=start.isoformat(), ends_at=end.isoformat())
    p = join(world, task)
    assert consumers.record_scan(event(world, p, at=start - timedelta(seconds=1))) == "outside-window-or-code"
    assert consumers.record_scan(event(world, p, at=end)) == "outside-window-or-code"
    assert consumers.record_scan(event(world, p, at=start)) == "counted"
    stats = tasks.stats(world["tenant"], task["id"])
    assert (stats["invites"], stats["not_counted"]["outside_window"], stats["scans"]) == (1, 2, 3)


def test_forged_or_foreign_refs_count_nothing(world):
    task = world["make_task"]()
    p = join(world, task)
    forged = p["ref"][:-8] + "22222222"
    assert consumers.record_scan(event(world, p, ref=forged)) == "own-device-or-unknown"
    assert consumers.record_scan(event(world, p, ref="garbage")) == "no-ref"
    other_code = world["code"]["id"][::-1]
    assert consumers.record_scan(event(world, p, code_id=other_code)) == "outside-window-or-code"
    foreign = {**event(world, p), "tenant_id": "zzzzzzzz"}
    assert consumers.record_scan(foreign) == "no-ref"
    assert progress(world, task, p)["invites"] == 0


def test_own_device_never_counts_and_an_early_self_scan_is_taken_back(world):
    from chalicelib.livecodes import cookies
    from chalicelib.settings import get_settings

    task = world["make_task"](goal=5)
    p = join(world, task)
    key = p["progress_url"].rsplit("/", 1)[1]
    # scanned her own poster before ever opening her page: counted at first...
    assert consumers.record_scan(event(world, p, visitor="s" * 16)) == "counted"
    assert progress(world, task, p)["invites"] == 1
    # ...then she opens her page on that phone: the device is hers, the invite is taken back
    cookie = cookies.write(world["code"]["id"], cookies.Visit("s" * 16, "-", "-"),
                           get_settings().secret, "/", False).split(";")[0]
    _, set_cookie = own.progress(key, cookie)
    assert set_cookie is None
    assert progress(world, task, p)["invites"] == 0
    # and an event from that device still in the queue counts nothing
    assert consumers.record_scan(event(world, p, visitor="s" * 16)) == "own-device-or-unknown"
    assert consumers.record_scan(event(world, p, visitor="t" * 16)) == "counted"
    _, minted = own.progress(key, "")
    minted_visitor = minted.split("=", 1)[1].split(".")[0]
    assert consumers.record_scan(event(world, p, visitor=minted_visitor)) == "own-device-or-unknown"
    assert progress(world, task, p)["invites"] == 1


def test_reaching_the_goal_grants_once_with_a_pool_code(world):
    task = world["make_task"](goal=2, reward={"message": "送书", "codes": ["C1"]})
    a, b = join(world, task), join(world, task)
    consumers.record_scan(event(world, a))
    assert consumers.record_scan(event(world, a)) == "counted+rewarded"
    assert consumers.record_scan(event(world, a)) == "counted"  # over the goal: no second reward
    consumers.record_scan(event(world, b))
    assert consumers.record_scan(event(world, b)) == "counted+rewarded"
    notices = rewards.rewards(world["tenant"], task["id"], 10, None)["items"]
    by_pid = {n["participant_id"]: n for n in notices}
    assert by_pid[a["participant_id"]]["code"] == "C1"
    assert by_pid[b["participant_id"]]["code"] is None
    assert by_pid[b["participant_id"]]["note"] == "codes-exhausted"
    stats = tasks.stats(world["tenant"], task["id"])
    assert stats["rewards"] == 2 and stats["codes"] == {"total": 1, "issued": 1, "left": 0}
    codes = tasks.list_codes(world["tenant"], task["id"], 10, None)["items"]
    assert codes[0]["participant_id"] == a["participant_id"]


def test_redelivered_goal_event_finishes_the_reward(world):
    from chalicelib.fission.models import Participant, task_pk

    task = world["make_task"](goal=1, reward={"message": "m"})
    p = join(world, task)
    e = event(world, p)
    original = rewards.check_reward
    rewards.check_reward = lambda *a: (_ for _ in ()).throw(RuntimeError("crash after counting"))
    try:
        with pytest.raises(RuntimeError):
            consumers.record_scan(e)
    finally:
        rewards.check_reward = original
    stored = Participant.get(task_pk(world["tenant"], task["id"]), p["participant_id"])
    assert int(stored.invites) == 1 and stored.rewarded_at is None
    assert consumers.record_scan(e) == "duplicate+rewarded"  # SQS delivers it again
    assert progress(world, task, p)["rewarded"] and progress(world, task, p)["invites"] == 1


def test_ref_scan_costs_at_most_two_calls(world):
    from bench.common import CallCounter

    task = world["make_task"](goal=10)
    p = join(world, task)
    consumers.record_scan(event(world, p))  # warm the clients
    for e in (event(world, p), event(world, p, new=False), event(world, p, ref=p["ref"][:-8] + "2" * 8)):
        with CallCounter() as calls:
            consumers.record_scan(e)
        assert calls.total <= 2, calls.calls
    with CallCounter() as calls:
        consumers.record_scans([{**event(world, p), "ref": None}])
    assert calls.total == 0


def test_leaderboard_orders_by_invites_with_limit(world):
    task = world["make_task"](goal=100)
    people = [join(world, task, nickname=f"p{i}") for i in range(5)]
    for i, p in enumerate(people):
        for _ in range(i * 2 % 5):
            consumers.record_scan(event(world, p))
    board = participants.leaderboard(world["tenant"], task["id"], 3)["items"]
    assert [r["invites"] for r in board] == [4, 3, 2]
    assert [r["rank"] for r in board] == [1, 2, 3]
