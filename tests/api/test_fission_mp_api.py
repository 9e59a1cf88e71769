"""The mini-program user's own fission participation (/mp/v1/fission-tasks/{id}/join and /me):
token required, tenant-bound, idempotent joins, progress that follows invites counted by the events
consumer, the reward notice in the outbox."""
import json

from tests.conftest import auth_headers
from tests.support.fission import body, make_task, post
from tests.support.images import png_b64
from tests.support.wechat import fake_wechat  # noqa: F401


def assert_error(resp, status, code=None):
    assert resp.status_code == status, resp.body
    if code:
        assert body(resp)["error"]["code"] == code, body(resp)


def login(client, tenant, code):
    resp = client.http.post("/mp/v1/login", headers={"Content-Type": "application/json"},
                            body=json.dumps({"tenant": tenant["tenant_id"], "code": code}))
    assert resp.status_code == 200, resp.body
    return body(resp)


def mp(token):
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def join(client, token, task_id, **payload):
    payload.setdefault("nickname", "小明")
    return client.http.post(f"/mp/v1/fission-tasks/{task_id}/join", headers=mp(token),
                            body=json.dumps(payload))


def me(client, token, task_id):
    return client.http.get(f"/mp/v1/fission-tasks/{task_id}/me", headers=mp(token))


def scan(client, invite_url, token=None):
    headers = {"Accept": "application/json", "User-Agent": "MicroMessenger"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    resp = client.http.get(invite_url.replace("http://testserver", ""), headers=headers)
    assert resp.status_code == 200, resp.body


def drain():
    import app as app_module
    from devstack.drain import drain_all

    drain_all(app_module)


def test_the_mp_fission_routes_need_a_mini_program_token(fake_wechat, app_client, tenant):  # noqa: F811
    task = make_task(app_client, tenant)
    path = f"/mp/v1/fission-tasks/{task['id']}"
    for headers in ({}, mp("garbage"), auth_headers(tenant)):
        assert_error(app_client.http.get(path + "/me", headers=headers), 401)
        assert_error(app_client.http.post(path + "/join", headers=headers,
                                          body='{"nickname": "x"}'), 401)
    assert body(app_client.http.get(f"/v1/fission-tasks/{task['id']}",
                                    headers=auth_headers(tenant)))["participants"] == 0


def test_another_tenants_token_cannot_join_or_read(fake_wechat, app_client, tenant,  # noqa: F811
                                                   other_tenant):
    task = make_task(app_client, tenant)
    theirs = login(app_client, other_tenant, "mallory:1")["token"]
    assert_error(join(app_client, theirs, task["id"]), 404, "task-not-found")
    assert_error(me(app_client, theirs, task["id"]), 404, "task-not-found")
    assert body(app_client.http.get(f"/v1/fission-tasks/{task['id']}",
                                    headers=auth_headers(tenant)))["participants"] == 0


def test_join_is_idempotent_per_user_and_me_needs_a_join(fake_wechat, app_client, tenant):  # noqa: F811
    task = make_task(app_client, tenant)
    session = login(app_client, tenant, "alice:1")
    assert_error(me(app_client, session["token"], task["id"]), 404, "not-participating")
    first = join(app_client, session["token"], task["id"], avatar=png_b64(200, 200))
    assert first.status_code == 201, first.body
    p = body(first)
    assert {"participant_id", "ref", "poster_url", "invite_url", "progress_url"} <= set(p)
    assert p["user_id"] == session["user_id"] and p["avatar_url"]
    again = join(app_client, session["token"], task["id"], nickname="小明2")
    assert again.status_code == 200
    assert body(again)["participant_id"] == p["participant_id"] and body(again)["nickname"] == "小明2"
    # the marketer registering the same user gets the same participant too
    marketer = post(app_client, tenant, f"/v1/fission-tasks/{task['id']}/participants",
                    {"user_id": session["user_id"], "nickname": "小明"})
    assert marketer.status_code == 200 and body(marketer)["participant_id"] == p["participant_id"]
    assert body(app_client.http.get(f"/v1/fission-tasks/{task['id']}",
                                    headers=auth_headers(tenant)))["participants"] == 1
    for payload in ({}, {"nickname": "x", "user_id": "someone-else"}, {"nickname": ""}):
        resp = app_client.http.post(f"/mp/v1/fission-tasks/{task['id']}/join",
                                    headers=mp(session["token"]), body=json.dumps(payload))
        assert_error(resp, 400)
    assert_error(join(app_client, session["token"], "zzzzzzzz"), 404, "task-not-found")
    assert_error(me(app_client, session["token"], "nope"), 404, "task-not-found")


def test_progress_follows_invites_and_the_reward_notice_reaches_the_outbox(
        fake_wechat, app_client, tenant):  # noqa: F811
    task = make_task(app_client, tenant, goal=2,
                     reward={"message": "恭喜{nickname}，书号 {code}", "codes": ["BOOK-9"]})
    alice = login(app_client, tenant, "alice:1")
    bob = login(app_client, tenant, "bob:1")
    mine = body(join(app_client, alice["token"], task["id"], nickname="Alice"))
    theirs = body(join(app_client, bob["token"], task["id"], nickname="Bob"))
    start = body(me(app_client, alice["token"], task["id"]))
    assert (start["invites"], start["goal"], start["rewarded"], start["reward"]) == (0, 2, False, None)
    assert start["invite_url"] == mine["invite_url"] and start["poster_url"] == mine["poster_url"]
    assert start["task"]["status"] == "active" and start["rank"] == 1
    scan(app_client, mine["invite_url"], token=alice["token"])  # Alice herself, in the mini-program
    scan(app_client, mine["invite_url"], token=bob["token"])    # Bob, logged in: a friend
    scan(app_client, mine["invite_url"])                         # a friend in a browser
    scan(app_client, theirs["invite_url"])                       # one for Bob
    drain()
    done = body(me(app_client, alice["token"], task["id"]))
    assert (done["invites"], done["remaining"], done["rewarded"], done["rank"]) == (2, 0, True, 1)
    assert done["reward"]["code"] == "BOOK-9" and done["reward"]["message"] == "恭喜Alice，书号 BOOK-9"
    assert done["reward_code"] == "BOOK-9"
    assert body(me(app_client, bob["token"], task["id"]))["rank"] == 2
    h = auth_headers(tenant)
    stats = body(app_client.http.get(f"/v1/fission-tasks/{task['id']}/stats", headers=h))
    assert stats["not_counted"]["own_device_or_unknown_ref"] == 1 and stats["invites"] == 3
    outbox = body(app_client.http.get(f"/v1/outbox?campaign_id={task['id']}", headers=h))["items"]
    assert [(o["user_id"], o["text"], o["source"], o["run_id"]) for o in outbox] == [
        (alice["user_id"], "恭喜Alice，书号 BOOK-9", "fission_reward", mine["participant_id"])]
    assert body(app_client.http.get("/v1/outbox", headers=h))["items"] == outbox
    rewards = body(app_client.http.get(f"/v1/fission-tasks/{task['id']}/rewards", headers=h))["items"]
    assert [(r["nickname"], r["notice"], r["notice_channel"], r["notice_user_id"])
            for r in rewards] == [("Alice", "sent", "outbox", alice["user_id"])]
    drain()  # nothing left to redo: still one notice
    assert len(body(app_client.http.get("/v1/outbox", headers=h))["items"]) == 1


def test_notice_channel_is_set_and_changed_on_the_task(app_client, tenant):
    task = make_task(app_client, tenant, reward={"message": "m", "notice_channel": "webhook"})
    assert task["reward"]["notice_channel"] == "webhook"
    h = auth_headers(tenant)
    resp = app_client.http.patch(f"/v1/fission-tasks/{task['id']}", headers=h,
                                 body=json.dumps({"reward": {"notice_channel": "wecom"}}))
    assert body(resp)["reward"] == {**task["reward"], "notice_channel": "wecom"}
    resp = app_client.http.patch(f"/v1/fission-tasks/{task['id']}", headers=h,
                                 body=json.dumps({"reward": {"notice_channel": "sms"}}))
    assert_error(resp, 400, "validation-error")
    resp = post(app_client, tenant, "/v1/fission-tasks", {**{k: task[k] for k in (
        "name", "livecode_id", "template_id", "goal")}, "reward": {"notice_channel": "fax"}})
    assert_error(resp, 400, "validation-error")
