"""Invite counting a cookie-less script cannot farm (issue 12): only WeChat user agents count,
an IP counts at most 3 invites per task and day, a participant at most 100 per day, and a
participant hitting a ceiling is flagged for the operator (participants API)."""
import json

import pytest

import app as app_module
from chalicelib.fission import consumers
from devstack.drain import drain_once
from tests.conftest import auth_headers
from tests.integration.test_fission_invites import event, join, world  # noqa: F401
from tests.support.fission import make_task

WECHAT = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.47"


def drain_events():
    drain_once("yutang-events", app_module.handle_events, visibility_timeout=0)


def scan(app_client, invite_url, agent, ip="203.0.113.9"):
    path = invite_url.split("testserver", 1)[1]
    return app_client.http.get(path, headers={"Accept": "application/json", "User-Agent": agent,
                                              "X-Forwarded-For": ip})


def test_a_cookieless_script_farms_nothing(app_client, tenant):
    task = make_task(app_client, tenant, goal=1, reward={"message": "m", "codes": ["CODE-1"]})
    resp = app_client.http.post(f"/v1/fission-tasks/{task['id']}/participants",
                                headers=auth_headers(tenant), body=json.dumps({"nickname": "p"}))
    p = json.loads(resp.body)
    for agent in ("curl/8.4.0", "python-requests/2.31", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120"):
        assert scan(app_client, p["invite_url"], agent).status_code == 200
    drain_events()
    h = auth_headers(tenant)
    got = json.loads(app_client.http.get(f"/v1/fission-tasks/{task['id']}/participants/"
                                         f"{p['participant_id']}", headers=h).body)
    assert got["invites"] == 0 and got["reward_code"] is None
    stats = json.loads(app_client.http.get(f"/v1/fission-tasks/{task['id']}/stats", headers=h).body)
    assert stats["not_counted"]["not_wechat"] == 3
    scan(app_client, p["invite_url"], WECHAT)
    drain_events()
    got = json.loads(app_client.http.get(f"/v1/fission-tasks/{task['id']}/participants/"
                                         f"{p['participant_id']}", headers=h).body)
    assert got["invites"] == 1 and got["reward_code"] == "CODE-1"  # a real WeChat scan counts


def test_one_ip_counts_at_most_three_invites_a_day_and_the_participant_is_flagged(world, monkeypatch):  # noqa: F811
    from chalicelib.settings import get_settings, reset_settings

    assert get_settings().invites_per_ip_per_day == 20  # default: a venue's Wi-Fi, carriers' NAT
    monkeypatch.setenv("YUTANG_INVITES_PER_IP_PER_DAY", "3")
    reset_settings()
    try:
        _one_ip_ceiling(world)
    finally:
        monkeypatch.delenv("YUTANG_INVITES_PER_IP_PER_DAY")
        reset_settings()


def _one_ip_ceiling(world):  # noqa: F811
    task = world["make_task"](goal=50)
    p = join(world, task)
    results = [consumers.record_scan({**event(world, p), "ip": "iphash-1"}) for _ in range(5)]
    assert results[:3] == ["counted"] * 3
    assert results[3:] == ["ip-daily-ceiling"] * 2
    assert consumers.record_scan({**event(world, p), "ip": "iphash-2"}) == "counted"  # another IP
    from chalicelib.fission import participants, tasks

    view = participants.get_participant(world["tenant"], task["id"], p["participant_id"])
    assert view["invites"] == 4 and view["suspicious"]["reason"] == "ip_daily_ceiling"
    other = join(world, task, openid="o-clean")
    consumers.record_scan({**event(world, other), "ip": "iphash-3"})
    flagged = participants.list_participants(world["tenant"], task["id"], 20, None, suspicious=True)
    assert [x["participant_id"] for x in flagged["items"]] == [p["participant_id"]]
    assert tasks.stats(world["tenant"], task["id"])["not_counted"]["daily_ceiling"] == 2


def test_a_participant_counts_at_most_the_daily_ceiling(world, monkeypatch):  # noqa: F811
    monkeypatch.setattr(consumers, "MAX_PER_PARTICIPANT_PER_DAY", 4)
    task = world["make_task"](goal=50)
    p = join(world, task)
    results = [consumers.record_scan({**event(world, p), "ip": f"ip-{i}"}) for i in range(6)]
    assert results == ["counted"] * 4 + ["participant-daily-ceiling"] * 2
    from chalicelib.fission import participants

    assert participants.get_participant(world["tenant"], task["id"], p["participant_id"])[
        "suspicious"]["reason"] == "participant_daily_ceiling"


def test_the_participants_api_lists_flagged_ones(app_client, tenant):
    task = make_task(app_client, tenant)
    resp = app_client.http.get(f"/v1/fission-tasks/{task['id']}/participants?suspicious=true",
                               headers=auth_headers(tenant))
    assert resp.status_code == 200 and json.loads(resp.body)["items"] == []
    resp = app_client.http.get(f"/v1/fission-tasks/{task['id']}/participants?suspicious=maybe",
                               headers=auth_headers(tenant))
    assert resp.status_code == 400


@pytest.mark.parametrize("agent,counted", [("curl/8", False), (WECHAT, True)])
def test_the_scan_event_carries_the_agent_and_a_hashed_ip(app_client, tenant, agent, counted):
    from chalicelib import events

    published = []
    real = events.publish
    events.publish = lambda kind, payload: (published.append(payload), real(kind, payload))[1]
    try:
        task = make_task(app_client, tenant)
        resp = app_client.http.post(f"/v1/fission-tasks/{task['id']}/participants",
                                    headers=auth_headers(tenant), body=json.dumps({"nickname": "p"}))
        scan(app_client, json.loads(resp.body)["invite_url"], agent)
    finally:
        events.publish = real
    scan_event = [e for e in published if "visitor_id" in e][-1]
    assert scan_event["wechat"] is counted
    assert scan_event["ip"] and "203.0.113" not in json.dumps(scan_event)
