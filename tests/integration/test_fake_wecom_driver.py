"""The fake 企业微信 driven over HTTP (devstack/fake_wecom_driver.py): callback URL check, customer
groups, a customer adding staff through a contact way (welcome code + signed callback), joining and
leaving groups, deleting contacts; and its state surviving a restart."""
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chalicelib.wecom import crypto
from devstack.fake_wecom import FakeWecom
from tests.support.wecom import AES_KEY, CORP_ID, SECRET, TOKEN


class Receiver:
    """Stands in for Yutang's callback endpoint: checks signatures, decrypts, records events."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _params(self):
                return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlparse(
                    self.path).query).items()}

            def _answer(self, status, text):
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802 - the console's URL check
                p = self._params()
                try:
                    crypto.verify_signature(TOKEN, p["timestamp"], p["nonce"], p["echostr"],
                                            p["msg_signature"])
                except Exception:  # noqa: BLE001
                    return self._answer(403, "bad signature")
                self._answer(200, crypto.decrypt(AES_KEY, CORP_ID, p["echostr"]))

            def do_POST(self):  # noqa: N802
                p = self._params()
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                encrypted = crypto.parse_xml(raw)["Encrypt"]
                crypto.verify_signature(TOKEN, p["timestamp"], p["nonce"], encrypted,
                                        p["msg_signature"])
                receiver.events.append(crypto.parse_xml(crypto.decrypt(AES_KEY, CORP_ID, encrypted)))
                self._answer(200, "success")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/wecom/v1/callback/t1"


def call(base, method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def cgi(base, name, body=None, query=None):
    """What Yutang's client does: a token, then the call."""
    _, token = call(base, "GET", f"/cgi-bin/gettoken?corpid={CORP_ID}&corpsecret={SECRET}")
    q = urllib.parse.urlencode({"access_token": token["access_token"], **(query or {})})
    return call(base, "POST" if body is not None else "GET",
                f"/cgi-bin/externalcontact/{name}?{q}", body)[1]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def state_file(tmp_path):
    return tmp_path / "data" / "fake-wecom.json"


def configure(base, receiver, **overrides):
    return call(base, "POST", "/fake/callback", {"url": receiver.url, "token": TOKEN,
                                                  "encoding_aes_key": AES_KEY, "corp_id": CORP_ID,
                                                  **overrides})


def test_the_callback_url_is_checked_like_the_console_does(receiver, state_file):
    with FakeWecom(state_path=state_file) as fake:
        status, body = configure(fake.url, receiver, token="wrong-token")
        assert status == 400 and "did not pass" in body["error"]
        status, body = configure(fake.url, receiver)
        assert status == 200 and body["verified"] is True


def test_actions_need_a_callback_and_known_objects(receiver, state_file):
    with FakeWecom(state_path=state_file) as fake:
        status, body = call(fake.url, "POST", "/fake/contact_ways/nope/add_customer", {})
        assert status == 409 and "/fake/callback" in body["error"]
        configure(fake.url, receiver)
        assert call(fake.url, "POST", "/fake/contact_ways/nope/add_customer", {})[0] == 404
        assert call(fake.url, "POST", "/fake/chats/nope/join", {})[0] == 404
        assert call(fake.url, "POST", "/fake/chats", {"owner": 5})[0] == 400
        assert call(fake.url, "GET", "/fake/nothing")[0] == 404
        assert call(fake.url, "GET", "/fake/chats")[0] == 405


def test_a_customer_adds_staff_through_a_contact_way(receiver, state_file):
    with FakeWecom(state_path=state_file) as fake:
        configure(fake.url, receiver)
        way = cgi(fake.url, "add_contact_way", {"type": 1, "scene": 2, "state": "ytcode1target1",
                                                "user": ["zhangsan"]})
        status, body = call(fake.url, "POST", f"/fake/contact_ways/{way['config_id']}/add_customer",
                            {"external_userid": "wmcust1", "unionid": "u-1", "name": "小王"})
        assert status == 200 and body["callback"] == {"status": 200, "body": "success"}
        [event] = receiver.events
        assert (event["Event"], event["ChangeType"]) == ("change_external_contact",
                                                         "add_external_contact")
        assert (event["UserID"], event["ExternalUserID"], event["State"]) == (
            "zhangsan", "wmcust1", "ytcode1target1")
        assert event["WelcomeCode"] == body["welcome_code"]
        contact = cgi(fake.url, "get", query={"external_userid": "wmcust1"})
        assert contact["external_contact"]["unionid"] == "u-1"
        assert contact["follow_user"][0]["state"] == "ytcode1target1"
        sent = cgi(fake.url, "send_welcome_msg", {"welcome_code": body["welcome_code"],
                                                  "text": {"content": "欢迎"}})
        assert sent["errcode"] == 0
        status, body = call(fake.url, "POST", "/fake/customers/wmcust1/delete",
                            {"userid": "zhangsan", "by": "customer"})
        assert status == 200 and receiver.events[-1]["ChangeType"] == "del_follow_user"


def test_groups_are_created_joined_through_a_join_way_and_left(receiver, state_file):
    with FakeWecom(state_path=state_file) as fake:
        configure(fake.url, receiver)
        status, body = call(fake.url, "POST", "/fake/chats", {
            "chat_id": "wrgroup1", "name": "福利群", "owner": "zhangsan", "staff": ["lisi"],
            "customers": ["wmold1", {"external_userid": "wmold2", "unionid": "u-2"}]})
        assert status == 201 and len(body["chat"]["member_list"]) == 4
        way = cgi(fake.url, "groupchat/add_join_way", {"scene": 2, "chat_id_list": ["wrgroup1"],
                                                        "state": "ytcode2target2"})
        status, body = call(fake.url, "POST", "/fake/chats/wrgroup1/join",
                            {"external_userid": "wmnew", "config_id": way["config_id"]})
        assert status == 200 and body["member"]["state"] == "ytcode2target2"
        event = receiver.events[-1]
        assert (event["Event"], event["UpdateDetail"], event["MemChangeList"]) == (
            "change_external_chat", "add_member", ["wmnew"])
        chat = cgi(fake.url, "groupchat/get", {"chat_id": "wrgroup1"})["group_chat"]
        assert [m["userid"] for m in chat["member_list"]][-1] == "wmnew"
        status, body = call(fake.url, "POST", "/fake/chats/wrgroup1/leave", {"userid": "wmold1"})
        assert status == 200 and body["members"] == 4
        assert receiver.events[-1]["UpdateDetail"] == "del_member"


def test_the_state_survives_a_restart(receiver, state_file):
    with FakeWecom(state_path=state_file) as fake:
        configure(fake.url, receiver)
        way = cgi(fake.url, "add_contact_way", {"type": 1, "scene": 2, "state": "s1",
                                                "user": ["zhangsan"]})
        call(fake.url, "POST", "/fake/chats", {"chat_id": "wrkeep", "owner": "zhangsan",
                                               "customers": ["wm1"]})
        join_way = cgi(fake.url, "groupchat/add_join_way", {"scene": 2, "chat_id_list": ["wrkeep"]})
        code = call(fake.url, "POST", "/fake/welcome_codes")[1]["welcome_code"]
    with FakeWecom(state_path=state_file) as again:  # a new process would see the same
        assert again.restored
        assert cgi(again.url, "update_contact_way", {"config_id": way["config_id"],
                                                     "state": "s2"})["errcode"] == 0
        assert cgi(again.url, "groupchat/get_join_way", {"config_id": join_way["config_id"]})[
            "join_way"]["chat_id_list"] == ["wrkeep"]
        members = cgi(again.url, "groupchat/get", {"chat_id": "wrkeep"})["group_chat"]["member_list"]
        assert [m["userid"] for m in members] == ["zhangsan", "wm1"]
        _, state = call(again.url, "GET", "/fake/state")
        assert code in state["welcome_codes"] and state["callback"]["url"] == receiver.url
        status, body = call(again.url, "POST", f"/fake/contact_ways/{way['config_id']}/add_customer",
                            {})
        assert status == 200 and body["callback"]["status"] == 200  # the callback config too
    with FakeWecom() as fresh:  # without a state file nothing is remembered
        assert cgi(fresh.url, "update_contact_way", {"config_id": way["config_id"],
                                                     "state": "s3"})["errcode"] == 40058
