"""A tester drives `make dev`'s fake 企业微信 over HTTP: the callback URL is verified by Yutang, a
customer added through a live code's contact way is attributed and welcomed, group joins and leaves
move the group target's real member count — and after a restart of make dev the fake still knows
its ways and groups (a PATCH of a staff target is not refused with 40058)."""
import json
import re
import time
import urllib.error
import urllib.request

import pytest

from tests.e2e.conftest import DevStack
from tests.support.wecom import settings_body

pytestmark = pytest.mark.e2e


def fake_url(stack: DevStack) -> str:
    return re.findall(r"企业微信 API (http://127\.0\.0\.1:\d+)", stack.log)[-1]


def fake(base: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(base + path, method=method, headers={"Content-Type": "application/json"},
                                 data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def api(stack: DevStack, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    status, _, raw = stack.request(method, path, body)
    return status, (json.loads(raw) if raw else {})


def eventually(check, seconds: float = 45):
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def test_a_tester_drives_the_fake_wecom_and_it_survives_a_restart(tmp_path):
    first = DevStack(tmp_path)
    try:
        base = fake_url(first)
        status, body = api(first, "PUT", "/v1/integrations/wecom", settings_body())
        assert status == 200, body
        callback_url = api(first, "GET", "/v1/integrations/wecom")[1]["callback_url"]
        s = settings_body()
        status, body = fake(base, "POST", "/fake/callback", {
            "url": callback_url, "token": s["token"], "encoding_aes_key": s["encoding_aes_key"],
            "corp_id": s["corp_id"]})
        assert status == 200 and body["verified"], body  # Yutang decrypted the echostr
        status, _ = fake(base, "POST", "/fake/chats", {"chat_id": "wre2egroup", "owner": "zhangsan",
                                                       "customers": ["wmold1", "wmold2"]})
        assert status == 201
        status, code = api(first, "POST", "/v1/livecodes", {
            "name": "企微演示", "channel": "e2e-wecom", "welcome": {"text": "欢迎来到鱼塘"},
            "targets": [{"kind": "staff", "name": "客服", "wecom_user_ids": ["zhangsan"],
                         "skip_verify": True},
                        {"kind": "group", "name": "福利群", "wecom_chat_ids": ["wre2egroup"]}]})
        assert status == 201, code
        staff, group = code["targets"]
        assert group["assigned"] == 3  # the real members: owner and two customers

        status, added = fake(base, "POST",
                             f"/fake/contact_ways/{staff['wecom']['config_id']}/add_customer",
                             {"external_userid": "wme2ecustomer", "name": "小王"})
        assert status == 200 and added["callback"] == {"status": 200, "body": "success"}, added

        def attributed():
            status, contact = api(first, "GET", "/v1/integrations/wecom/contacts/wme2ecustomer")
            return status == 200 and contact.get("code_id") == code["id"] and contact

        assert eventually(attributed), "the add was not attributed to the live code"
        welcomed = eventually(lambda: [w for w in fake(base, "GET", "/fake/state")[1]["welcomes"]
                                       if w["welcome_code"] == added["welcome_code"]])
        assert welcomed and welcomed[0]["text"]["content"] == "欢迎来到鱼塘"

        status, joined = fake(base, "POST", "/fake/chats/wre2egroup/join",
                              {"external_userid": "wme2ejoiner",
                               "config_id": group["wecom"]["config_id"]})
        assert status == 200 and joined["callback"]["status"] == 200
        assert joined["member"]["state"] == group["wecom"]["state"]

        def assigned(n):
            targets = api(first, "GET", f"/v1/livecodes/{code['id']}")[1]["targets"]
            return targets[1]["assigned"] == n

        assert eventually(lambda: assigned(4))
        status, _ = fake(base, "POST", "/fake/chats/wre2egroup/leave", {"userid": "wmold1"})
        assert status == 200 and eventually(lambda: assigned(3))
    finally:
        assert first.stop() == 0

    second = DevStack(tmp_path)
    try:
        assert "state restored" in second.log
        base = fake_url(second)
        status, body = api(second, "PATCH", f"/v1/livecodes/{code['id']}/targets/{staff['id']}",
                           {"wecom_user_ids": ["lisi"]})
        assert status == 200, body  # not 422 / 40058: the fake remembers the contact way
        assert body["wecom"]["user_ids"] == ["lisi"]
        status, body = api(second, "PATCH", f"/v1/livecodes/{code['id']}/targets/{group['id']}",
                           {"wecom_chat_ids": ["wre2egroup"]})
        assert status == 200, body
        state = fake(base, "GET", "/fake/state")[1]
        assert [w["user"] for w in state["contact_ways"]] == [["lisi"]]
        chat = next(c for c in state["chats"] if c["chat_id"] == "wre2egroup")
        assert [m["userid"] for m in chat["member_list"]] == ["zhangsan", "wmold2", "wme2ejoiner"]
    finally:
        second.stop()
