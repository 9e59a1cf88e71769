"""Drive the fake 企业微信 over HTTP, as a tester would click through the real one, and keep its
state in a file (``make dev``: ``<data dir>/fake-wecom.json``) so a restart remembers it.

Endpoints, under the fake's own URL (``make dev`` prints it; JSON in, JSON out, plain HTTP statuses):

- ``GET  /fake/state`` — contact ways, join ways, customer groups, customers, welcome messages and
  mass-message templates received, and the configured callback URL.
- ``POST /fake/callback`` ``{url, token, encoding_aes_key, corp_id}`` — the admin console's
  「接收事件服务器」: the fake verifies the URL as 企业微信 does (a signed, encrypted ``echostr``
  the server must decrypt) and then sends its events there. 400 when the check fails.
- ``POST /fake/chats`` ``{chat_id?, name?, owner, staff?: [userid], customers?: [external_userid |
  {external_userid, name?, unionid?}]}`` — a customer group with members (201).
- ``POST /fake/contact_ways/{config_id}/add_customer`` ``{external_userid?, name?, unionid?,
  userid?}`` — a customer adds the staff member of a 「联系我」 way: the customer is registered
  (``externalcontact/get`` knows them, with the way's ``state``), a welcome code is issued, and the
  ``change_external_contact/add_external_contact`` callback (``State``, ``WelcomeCode``) is sent.
- ``POST /fake/chats/{chat_id}/join`` ``{external_userid? | userid?, config_id? | state?, unionid?,
  staff?: false}`` — someone joins the group (through a join way: its ``state``), then the
  ``change_external_chat/update`` ``add_member`` callback.
- ``POST /fake/chats/{chat_id}/leave`` ``{userid}`` — a member leaves; ``del_member`` callback.
- ``POST /fake/customers/{external_userid}/delete`` ``{userid, by: customer | staff}`` — the
  customer deletes the staff member (``del_follow_user``) or the staff member deletes the customer
  (``del_external_contact``); the callback follows.
- ``POST /fake/welcome_codes`` — a fresh welcome code (valid 20 s, once) for trying
  ``send_welcome_msg`` by hand.

Actions that send a callback answer 409 until ``/fake/callback`` is configured, and report the
callback's delivery as ``callback: {status, body}``.
"""
from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devstack.fake_wecom import FakeWecom

PERSISTED = ("contact_ways", "join_ways", "chats", "customers", "welcome_codes", "welcomes",
             "templates", "callback")


class DriverError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


# ---- state file -----------------------------------------------------------------------------------

def load(fake: FakeWecom, path: Path) -> bool:
    """Restore what ``save`` wrote; False when there is no state file yet."""
    if not path.exists():
        return False
    data = json.loads(path.read_text(encoding="utf-8"))
    for name in PERSISTED:
        if name in data:
            setattr(fake, name, data[name])
    return True


def save(fake: FakeWecom, path: Path) -> None:
    """Write the state atomically (a crash leaves the previous file whole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({name: getattr(fake, name) for name in PERSISTED},
                              ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


# ---- HTTP -------------------------------------------------------------------------------------------

ROUTES: list[tuple[str, re.Pattern, str]] = [
    ("GET", re.compile(r"^/fake/state$"), "state"),
    ("POST", re.compile(r"^/fake/callback$"), "configure_callback"),
    ("POST", re.compile(r"^/fake/chats$"), "create_chat"),
    ("POST", re.compile(r"^/fake/contact_ways/(?P<config_id>[^/]+)/add_customer$"), "add_customer"),
    ("POST", re.compile(r"^/fake/chats/(?P<chat_id>[^/]+)/join$"), "join"),
    ("POST", re.compile(r"^/fake/chats/(?P<chat_id>[^/]+)/leave$"), "leave"),
    ("POST", re.compile(r"^/fake/customers/(?P<external_userid>[^/]+)/delete$"), "delete_contact"),
    ("POST", re.compile(r"^/fake/welcome_codes$"), "welcome_code"),
]


def handle(fake: FakeWecom, method: str, path: str, body: Any) -> tuple[int, dict]:
    """Answer a ``/fake/...`` request: (HTTP status, JSON body)."""
    for verb, pattern, name in ROUTES:
        match = pattern.match(path)
        if match and verb == method:
            if method == "POST" and not isinstance(body, dict):
                return 400, {"error": "a JSON object body is required"}
            args = {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
            try:
                return globals()[name](fake, body or {}, **args)
            except DriverError as exc:
                return exc.status, {"error": exc.message}
        if match:
            return 405, {"error": f"{path} takes {verb}"}
    return 404, {"error": f"no such fake endpoint: {path} (see devstack/fake_wecom_driver.py)"}


def _text(body: dict, name: str, default: str | None = None, required: bool = False) -> str | None:
    value = body.get(name, default)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > 128:
        raise DriverError(400, f"'{name}' must be a non-empty string")
    return value


def _callback_config(fake: FakeWecom) -> dict:
    if not fake.callback:
        raise DriverError(409, "no callback configured: POST /fake/callback {url, token, "
                               "encoding_aes_key, corp_id} first (as in the admin console)")
    return fake.callback


def _changed(fake: FakeWecom) -> None:
    if fake.state_path is not None:
        save(fake, fake.state_path)


# ---- endpoints ----------------------------------------------------------------------------------

def state(fake: FakeWecom, body: dict) -> tuple[int, dict]:
    with fake._lock:
        view = {name: json.loads(json.dumps(getattr(fake, name))) for name in PERSISTED}
    if view["callback"]:
        view["callback"] = {k: view["callback"][k] for k in ("url", "corp_id")}
    view["contact_ways"] = [{"config_id": k, **v} for k, v in view["contact_ways"].items()]
    view["join_ways"] = [{"config_id": k, **v} for k, v in view["join_ways"].items()]
    view["chats"] = list(view["chats"].values())
    view["customers"] = list(view["customers"].values())
    view["welcome_codes"] = sorted(view["welcome_codes"])
    return 200, view


def configure_callback(fake: FakeWecom, body: dict) -> tuple[int, dict]:
    from chalicelib.wecom import crypto

    config = {"url": _text(body, "url", required=True), "token": _text(body, "token", required=True),
              "encoding_aes_key": _text(body, "encoding_aes_key", required=True),
              "corp_id": _text(body, "corp_id", required=True)}
    if not config["url"].startswith(("http://", "https://")):
        raise DriverError(400, "'url' must be an http(s) URL")
    try:
        crypto.aes_key(config["encoding_aes_key"])
    except Exception:  # noqa: BLE001 - any malformed key
        raise DriverError(400, "'encoding_aes_key' must be 43 base64 characters") from None
    echo = uuid.uuid4().hex
    encrypted = crypto.encrypt(config["encoding_aes_key"], config["corp_id"], echo)
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    query = urllib.parse.urlencode({
        "msg_signature": crypto.signature(config["token"], timestamp, nonce, encrypted),
        "timestamp": timestamp, "nonce": nonce, "echostr": encrypted})
    status, answer = _request("GET", _with_query(config["url"], query))
    if status != 200 or answer.strip() != echo:
        raise DriverError(400, f"the URL did not pass 企业微信's check (HTTP {status}: "
                               f"{answer[:120]!r}); are token, encoding_aes_key and corp_id the "
                               "ones given to PUT /v1/integrations/wecom?")
    with fake._lock:
        fake.callback = config
        _changed(fake)
    return 200, {"verified": True, "url": config["url"]}


def create_chat(fake: FakeWecom, body: dict) -> tuple[int, dict]:
    chat_id = _text(body, "chat_id") or "wr" + uuid.uuid4().hex[:20]
    owner = _text(body, "owner", required=True)
    staff = body.get("staff") or []
    customers = body.get("customers") or []
    if not isinstance(staff, list) or not all(isinstance(s, str) and s for s in staff):
        raise DriverError(400, "'staff' must be a list of userids")
    if not isinstance(customers, list):
        raise DriverError(400, "'customers' must be a list")
    with fake._lock:
        if chat_id in fake.chats:
            raise DriverError(409, f"chat {chat_id} exists")
        chat = fake.add_chat(chat_id, owner=owner, staff=staff)
        chat["name"] = _text(body, "name") or chat_id
        for customer in customers:
            who = customer if isinstance(customer, dict) else {"external_userid": customer}
            external = _text(who, "external_userid", required=True)
            fake.join_chat(chat_id, external, unionid=who.get("unionid"))
            fake.customers.setdefault(external, _customer(external, who.get("name"),
                                                          who.get("unionid")))
        _changed(fake)
        return 201, {"chat": json.loads(json.dumps(chat))}


def _customer(external: str, name: str | None, unionid: str | None) -> dict:
    contact = {"external_userid": external, "name": name or "客户", "type": 1}
    if unionid:
        contact["unionid"] = unionid
    return {"external_contact": contact, "follow_user": []}


def add_customer(fake: FakeWecom, body: dict, config_id: str) -> tuple[int, dict]:
    from devstack.fake_wecom import contact_added

    callback = _callback_config(fake)
    external = _text(body, "external_userid") or "wm" + uuid.uuid4().hex[:24]
    with fake._lock:
        way = fake.contact_ways.get(config_id)
        if way is None:
            raise DriverError(404, f"no contact way {config_id}")
        users = way.get("user") or []
        userid = _text(body, "userid") or users[0]
        if userid not in users:
            raise DriverError(400, f"{userid} is not a member of contact way {config_id}")
        state_value = way.get("state") or None
        customer = fake.customers.setdefault(
            external, _customer(external, body.get("name"), body.get("unionid")))
        customer["follow_user"] = [f for f in customer["follow_user"] if f["userid"] != userid]
        customer["follow_user"].append({"userid": userid, "createtime": int(time.time()),
                                        "state": state_value or ""})
        welcome_code = fake.new_welcome_code()
        _changed(fake)
    fields = contact_added(callback["corp_id"], userid, external, state=state_value,
                           welcome_code=welcome_code)
    return 200, {"external_userid": external, "userid": userid, "state": state_value,
                 "welcome_code": welcome_code, "callback": deliver(callback, fields)}


def join(fake: FakeWecom, body: dict, chat_id: str) -> tuple[int, dict]:
    from devstack.fake_wecom import chat_members_changed

    callback = _callback_config(fake)
    staff = bool(body.get("staff"))
    userid = _text(body, "userid" if staff or "userid" in body else "external_userid") or \
        "wm" + uuid.uuid4().hex[:24]
    with fake._lock:
        chat = fake.chats.get(chat_id)
        if chat is None:
            raise DriverError(404, f"no chat {chat_id}")
        if any(m["userid"] == userid for m in chat["member_list"]):
            raise DriverError(409, f"{userid} is already in {chat_id}")
        state_value = _text(body, "state")
        if body.get("config_id") is not None:
            way = fake.join_ways.get(body["config_id"])
            if way is None:
                raise DriverError(404, f"no join way {body['config_id']}")
            if chat_id not in way.get("chat_id_list", []):
                raise DriverError(400, f"join way {body['config_id']} does not lead to {chat_id}")
            state_value = way.get("state") or None
        fake.join_chat(chat_id, userid, state=state_value, customer=not staff,
                       unionid=body.get("unionid"))
        if not staff:
            fake.customers.setdefault(userid, _customer(userid, body.get("name"), body.get("unionid")))
        member = chat["member_list"][-1]
        _changed(fake)
    fields = chat_members_changed(callback["corp_id"], chat_id, "add_member", [userid])
    return 200, {"member": dict(member), "callback": deliver(callback, fields)}


def leave(fake: FakeWecom, body: dict, chat_id: str) -> tuple[int, dict]:
    from devstack.fake_wecom import chat_members_changed

    callback = _callback_config(fake)
    userid = _text(body, "userid", required=True)
    with fake._lock:
        chat = fake.chats.get(chat_id)
        if chat is None:
            raise DriverError(404, f"no chat {chat_id}")
        if not any(m["userid"] == userid for m in chat["member_list"]):
            raise DriverError(404, f"{userid} is not in {chat_id}")
        fake.leave_chat(chat_id, userid)
        _changed(fake)
    fields = chat_members_changed(callback["corp_id"], chat_id, "del_member", [userid])
    return 200, {"members": len(chat["member_list"]), "callback": deliver(callback, fields)}


def delete_contact(fake: FakeWecom, body: dict, external_userid: str) -> tuple[int, dict]:
    from devstack.fake_wecom import contact_removed

    callback = _callback_config(fake)
    userid = _text(body, "userid", required=True)
    by = body.get("by", "customer")
    if by not in ("customer", "staff"):
        raise DriverError(400, "'by' is customer or staff")
    with fake._lock:
        customer = fake.customers.get(external_userid)
        if customer is None or not any(f["userid"] == userid for f in customer["follow_user"]):
            raise DriverError(404, f"{external_userid} is not a contact of {userid}")
        customer["follow_user"] = [f for f in customer["follow_user"] if f["userid"] != userid]
        _changed(fake)
    change = "del_follow_user" if by == "customer" else "del_external_contact"
    fields = contact_removed(callback["corp_id"], userid, external_userid, change)
    return 200, {"change_type": change, "callback": deliver(callback, fields)}


def welcome_code(fake: FakeWecom, body: dict) -> tuple[int, dict]:
    with fake._lock:
        code = fake.new_welcome_code()
        _changed(fake)
    return 201, {"welcome_code": code}


# ---- callbacks ------------------------------------------------------------------------------------

def deliver(callback: dict, fields: dict) -> dict:
    """POST the event to the configured URL, encrypted and signed as 企业微信 does."""
    from devstack.fake_wecom import signed_callback

    sealed = signed_callback(callback["token"], callback["encoding_aes_key"], callback["corp_id"],
                             fields)
    query = urllib.parse.urlencode({"msg_signature": sealed.msg_signature,
                                    "timestamp": sealed.timestamp, "nonce": sealed.nonce})
    status, answer = _request("POST", _with_query(callback["url"], query), sealed.body.encode())
    return {"status": status, "body": answer[:200]}


def _with_query(url: str, query: str) -> str:
    return url + ("&" if "?" in url else "?") + query


def _request(method: str, url: str, data: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "text/xml"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310 - a tester's URL
            return resp.status, resp.read(4096).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(4096).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        return 0, f"not delivered: {exc}"
