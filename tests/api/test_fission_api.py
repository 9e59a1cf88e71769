"""Fission tasks through the API: tasks, participants, posters, scans with refs counted by the
events consumer, progress, leaderboard, rewards, stats, bad input and tenant isolation."""
import io
import json

import pytest

from tests.conftest import auth_headers
from tests.support.fission import body, make_livecode, make_task, make_template, post
from tests.support.images import decode_qr, png_b64


def assert_error(resp, status, code=None):
    assert resp.status_code == status, resp.body
    err = body(resp)["error"]
    assert err["message"]
    if code:
        assert err["code"] == code, err


def register(client, tenant, task_id, **payload):
    payload.setdefault("nickname", "张伟")
    return post(client, tenant, f"/v1/fission-tasks/{task_id}/participants", payload)


def scan(client, invite_url, cookie=None):
    path = invite_url.replace("http://testserver", "")
    headers = {"Accept": "application/json", "User-Agent": "MicroMessenger"}
    if cookie:
        headers["Cookie"] = cookie
    resp = client.http.get(path, headers=headers)
    assert resp.status_code == 200, resp.body
    return resp.headers["Set-Cookie"].split(";")[0]


def drain():
    import app as app_module
    from devstack.drain import drain_all

    drain_all(app_module)


def test_task_crud_and_views(app_client, tenant):
    task = make_task(app_client, tenant, reward={"message": "送书", "codes": ["A1", "A2"]})
    assert task["status"] == "active" and task["goal"] == 3
    assert task["reward"] == {"message": "送书", "codes_total": 2, "codes_issued": 0, "codes_left": 2,
                              "notice_channel": "outbox", "coupon_pool_id": None}
    assert task["scan_url"].startswith("http://testserver/s/")
    h = auth_headers(tenant)
    assert body(app_client.http.get(f"/v1/fission-tasks/{task['id']}", headers=h)) == task
    assert [t["id"] for t in body(app_client.http.get("/v1/fission-tasks", headers=h))["items"]] \
        == [task["id"]]
    resp = app_client.http.patch(f"/v1/fission-tasks/{task['id']}", headers=h,
                                 body=json.dumps({"name": "新名字", "reward": {"message": "新奖励"}}))
    assert resp.status_code == 200 and body(resp)["name"] == "新名字"
    assert body(resp)["reward"]["message"] == "新奖励"
    assert_error(app_client.http.patch(f"/v1/fission-tasks/{task['id']}", headers=h,
                                       body=json.dumps({"goal": 1})), 409, "task-started")
    codes = post(app_client, tenant, f"/v1/fission-tasks/{task['id']}/reward-codes", {"codes": ["A3"]})
    assert codes.status_code == 201 and body(codes)["codes_total"] == 3
    listed = body(app_client.http.get(f"/v1/fission-tasks/{task['id']}/reward-codes", headers=h))
    assert [c["code"] for c in listed["items"]] == ["A1", "A2", "A3"]
    assert app_client.http.delete(f"/v1/fission-tasks/{task['id']}", headers=h).status_code == 204
    assert_error(app_client.http.get(f"/v1/fission-tasks/{task['id']}", headers=h), 404,
                 "task-not-found")


def test_scheduled_task_can_change_its_goal(app_client, tenant):
    task = make_task(app_client, tenant, starts_at="2999-01-01T00:00:00+08:00")
    assert task["status"] == "scheduled"
    resp = app_client.http.patch(f"/v1/fission-tasks/{task['id']}", headers=auth_headers(tenant),
                                 body=json.dumps({"goal": 5}))
    assert resp.status_code == 200 and body(resp)["goal"] == 5


@pytest.mark.parametrize("overrides,code", [
    ({"goal": 0}, "validation-error"), ({"goal": "three"}, "validation-error"),
    ({"livecode_id": "zzzzzzzz"}, "livecode-not-found"),
    ({"template_id": "zzzzzzzz"}, "template-not-found"),
    ({"reward": {"codes": ["a", "a"]}}, "duplicate-codes"),
    ({"reward": {"codes": "abc"}}, "validation-error"),
    ({"reward": {"coupon": 1}}, "validation-error"),
    ({"ends_at": "2001-01-01T00:00:00+08:00"}, "validation-error"),
    ({"starts_at": "2999-01-02T00:00:00Z", "ends_at": "2999-01-01T00:00:00Z"}, "validation-error"),
    ({"starts_at": "2999-01-02T00:00:00"}, "validation-error"),
    ({"bonus": True}, "validation-error"),
])
def test_bad_tasks_are_refused_and_nothing_is_created(app_client, tenant, overrides, code):
    template = make_template(app_client, tenant)
    code_ = make_livecode(app_client, tenant)
    payload = {"name": "t", "livecode_id": code_["id"], "template_id": template["id"], "goal": 3,
               **overrides}
    assert_error(post(app_client, tenant, "/v1/fission-tasks", payload), 400, code)
    assert body(app_client.http.get("/v1/fission-tasks", headers=auth_headers(tenant)))["items"] == []


def test_register_returns_contract_fields_and_is_idempotent_per_user(app_client, tenant):
    task = make_task(app_client, tenant)
    first = register(app_client, tenant, task["id"], openid="o-123", avatar=png_b64(200, 300))
    assert first.status_code == 201, first.body
    p = body(first)
    assert {"participant_id", "ref", "poster_url", "invite_url"} <= set(p)
    assert p["invite_url"] == f"{task['scan_url']}?ref={p['ref']}"
    again = register(app_client, tenant, task["id"], openid="o-123", nickname="张伟2")
    assert again.status_code == 200
    assert body(again)["participant_id"] == p["participant_id"] and body(again)["nickname"] == "张伟2"
    other = register(app_client, tenant, task["id"], openid="o-456")
    assert body(other)["participant_id"] != p["participant_id"] and body(other)["ref"] != p["ref"]
    anonymous = [body(register(app_client, tenant, task["id"])) for _ in range(2)]
    assert anonymous[0]["participant_id"] != anonymous[1]["participant_id"]
    assert body(app_client.http.get(f"/v1/fission-tasks/{task['id']}", headers=auth_headers(tenant))
                )["participants"] == 4


@pytest.mark.parametrize("payload,status,code", [
    ({}, 400, "validation-error"), ({"nickname": ""}, 400, "validation-error"),
    ({"nickname": "x" * 65}, 400, "validation-error"),
    ({"nickname": "a", "avatar": "bm90IGFuIGltYWdl"}, 400, "invalid-image"),
    ({"nickname": "a", "email": "x"}, 400, "validation-error"),
])
def test_bad_participants(app_client, tenant, payload, status, code):
    task = make_task(app_client, tenant)
    resp = post(app_client, tenant, f"/v1/fission-tasks/{task['id']}/participants", payload)
    assert_error(resp, status, code)
    listed = app_client.http.get(f"/v1/fission-tasks/{task['id']}/participants",
                                 headers=auth_headers(tenant))
    assert body(listed)["items"] == []


def test_poster_is_a_small_jpeg_whose_qr_is_the_invite_url_and_is_cached(app_client, tenant):
    from PIL import Image

    from bench.common import CallCounter

    task = make_task(app_client, tenant)
    p = body(register(app_client, tenant, task["id"], nickname="王小明", avatar=png_b64(300, 300)))
    path = p["poster_url"].replace("http://testserver", "")
    first = app_client.http.get(path, headers={"Accept": "image/jpeg"})
    assert first.status_code == 200 and first.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(first.body)).size == (1080, 1920)
    assert len(first.body) <= 300 * 1024
    assert decode_qr(first.body) == [p["invite_url"]]
    with CallCounter() as calls:
        second = app_client.http.get(path, headers={"Accept": "image/jpeg"})
    assert second.body == first.body
    assert calls.total <= 2, calls.calls
    assert "PutObject" not in str(calls.calls)
    assert_error(app_client.http.get(path[:-8] + "x" * 6 + "/poster"), 404, "participant-not-found")


def test_invites_are_counted_honestly_and_rewarded_once(app_client, tenant):
    task = make_task(app_client, tenant, goal=2, reward={"message": "送书", "codes": ["BOOK-1"]})
    alice = body(register(app_client, tenant, task["id"], nickname="Alice", openid="o-a"))
    bob = body(register(app_client, tenant, task["id"], nickname="Bob", openid="o-b"))
    # Alice opens her own page on her phone: that device is hers from now on
    own = app_client.http.get(alice["progress_url"].replace("http://testserver", ""),
                              headers={"Accept": "application/json"})
    assert own.status_code == 200 and body(own)["invites"] == 0
    alice_cookie = own.headers["Set-Cookie"].split(";")[0]
    scan(app_client, alice["invite_url"], cookie=alice_cookie)   # herself (returning): not counted
    friend1 = scan(app_client, alice["invite_url"])             # new visitor: counted
    scan(app_client, alice["invite_url"], cookie=friend1)        # returning: not counted
    scan(app_client, bob["invite_url"], cookie=friend1)          # returning, other ref: not counted
    scan(app_client, alice["invite_url"])                        # second new visitor: goal reached
    scan(app_client, bob["invite_url"])                          # Bob: one invite
    scan(app_client, task["scan_url"])                           # no ref: nothing for the task
    drain()
    h = auth_headers(tenant)
    board = body(app_client.http.get(f"/v1/fission-tasks/{task['id']}/leaderboard?limit=5", headers=h))
    assert [(r["nickname"], r["invites"]) for r in board["items"]] == [("Alice", 2), ("Bob", 1)]
    assert body(app_client.http.get(f"/v1/fission-tasks/{task['id']}/leaderboard?limit=1",
                                    headers=h))["items"][0]["nickname"] == "Alice"
    rewards = body(app_client.http.get(f"/v1/fission-tasks/{task['id']}/rewards", headers=h))
    # Alice is known only by an openid no audience user holds: the outbox notice has no one to
    # address, and says so
    assert [(r["nickname"], r["code"], r["message"], r["notice"], r["notice_reason"])
            for r in rewards["items"]] == [("Alice", "BOOK-1", "送书", "skipped", "no_user")]
    stats = body(app_client.http.get(f"/v1/fission-tasks/{task['id']}/stats", headers=h))
    assert stats["funnel"] == [{"step": "scan", "count": 6}, {"step": "new_visitor", "count": 3},
                               {"step": "invite_counted", "count": 3},
                               {"step": "reward_granted", "count": 1}]
    assert stats["not_counted"]["returning_visitor"] == 3
    mine = body(app_client.http.get(alice["progress_url"].replace("http://testserver", ""),
                                    headers={"Accept": "application/json", "Cookie": alice_cookie}))
    assert mine["rewarded"] and mine["reward"]["code"] == "BOOK-1" and mine["remaining"] == 0
    page = app_client.http.get(alice["progress_url"].replace("http://testserver", ""))
    assert page.headers["Content-Type"].startswith("text/html") and "BOOK-1" in page.body.decode()
    marketer = body(app_client.http.get(
        f"/v1/fission-tasks/{task['id']}/participants/{alice['participant_id']}", headers=h))
    assert marketer["invites"] == 2 and marketer["reward_code"] == "BOOK-1"


def test_bad_leaderboard_and_list_queries(app_client, tenant):
    task = make_task(app_client, tenant)
    h = auth_headers(tenant)
    for path in (f"/v1/fission-tasks/{task['id']}/leaderboard?limit=0",
                 f"/v1/fission-tasks/{task['id']}/leaderboard?limit=abc",
                 f"/v1/fission-tasks/{task['id']}/participants?cursor=%25%25",
                 f"/v1/fission-tasks/{task['id']}/rewards?cursor=nope"):
        assert_error(app_client.http.get(path, headers=h), 400)
    assert_error(app_client.http.get("/v1/fission-tasks/nope/leaderboard", headers=h), 404,
                 "task-not-found")
    assert_error(app_client.http.get("/p/short"), 404, "participant-not-found")


def test_registration_after_the_end_is_refused(app_client, tenant):
    from datetime import datetime, timedelta, timezone

    from chalicelib.fission import participants, tasks

    task = make_task(app_client, tenant)
    later = datetime.now(timezone.utc) + timedelta(days=1)
    tasks.update_task(tenant["tenant_id"], task["id"],
                      {"ends_at": (later + timedelta(seconds=1)).isoformat()})
    with pytest.raises(Exception) as exc:
        participants.register(tenant["tenant_id"], task["id"], {"nickname": "late"},
                              now=later + timedelta(days=1))
    assert getattr(exc.value, "code", None) == "task-ended"


def test_other_tenant_cannot_see_or_change_tasks(app_client, tenant, other_tenant):
    task = make_task(app_client, tenant)
    p = body(register(app_client, tenant, task["id"]))
    hb = auth_headers(other_tenant)
    base = f"/v1/fission-tasks/{task['id']}"
    for path in (base, base + "/leaderboard", base + "/rewards", base + "/stats",
                 base + "/participants", base + f"/participants/{p['participant_id']}",
                 base + "/reward-codes"):
        assert_error(app_client.http.get(path, headers=hb), 404)
    assert_error(app_client.http.patch(base, headers=hb, body='{"name": "x"}'), 404)
    assert_error(app_client.http.delete(base, headers=hb), 404)
    assert_error(post(app_client, other_tenant, base + "/participants", {"nickname": "x"}), 404)
    assert_error(post(app_client, other_tenant, base + "/reward-codes", {"codes": ["x"]}), 404)
    assert body(app_client.http.get("/v1/fission-tasks", headers=hb))["items"] == []
    # B cannot build a task on A's live code or template either
    bad = post(app_client, other_tenant, "/v1/fission-tasks",
               {"name": "x", "livecode_id": task["livecode_id"], "template_id": task["template_id"],
                "goal": 1})
    assert_error(bad, 400, "livecode-not-found")
    assert body(app_client.http.get(base, headers=auth_headers(tenant)))["participants"] == 1
