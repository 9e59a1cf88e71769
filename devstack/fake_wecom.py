"""A fake 企业微信 server on loopback for tests and ``make dev`` (threaded ``http.server``).

It implements the documented request and response shapes of the calls Yutang makes, with real
access-token life cycles, and records every call (``calls``) for assertions. Answers are JSON with
``errcode``/``errmsg`` like 企业微信's. Paths (all under ``/cgi-bin``):

- ``GET gettoken?corpid&corpsecret`` → ``{access_token, expires_in}``. The same token is returned
  while it lives; it reports ``expires_in`` (default 7200) but really dies after ``token_lifetime``
  seconds (configurable, to test refresh), after which calls answer ``42001``. Unknown tokens answer
  ``40014``, a missing one ``41001``. With ``corps={corp_id: secret}`` set, a wrong corp id answers
  ``40013`` and a wrong secret ``40001``.
- ``POST externalcontact/add_contact_way`` ``{type 1|2, scene 1|2, state ≤ 30, user [..],
  skip_verify}`` → ``{config_id, qr_code}`` (scene 2; the QR is a real PNG served by this server
  under ``/qr/<config_id>.png``); ``update_contact_way`` / ``del_contact_way`` ``{config_id, ...}``.
- ``POST externalcontact/groupchat/add_join_way`` ``{scene 2, chat_id_list ≤ 5, state,
  auto_create_room, room_base_name, room_base_id}`` → ``{config_id}``; ``get_join_way`` →
  ``{join_way: {..., qr_code}}``; ``update_join_way``; ``del_join_way``.
- ``POST externalcontact/groupchat/get`` ``{chat_id}`` → ``{group_chat: {chat_id, owner,
  member_list: [{userid, type 1 staff|2 customer, join_time, join_scene, state?}]}}``.
- ``GET externalcontact/get?external_userid`` → ``{external_contact: {external_userid, name, type,
  unionid?}, follow_user: [...]}``: customers registered with :meth:`FakeWecom.add_customer`
  (``unionid`` only when given, as for an enterprise bound to the WeChat Open Platform), any other
  ``wm…`` id as a customer without unionid; other ids answer ``40096`` (invalid external userid).
- ``POST externalcontact/send_welcome_msg`` ``{welcome_code, text?: {content ≤ 4000 bytes},
  attachments?: [≤ 9 of {msgtype: link, link: {title ≤ 128 bytes, url ≤ 2048 bytes, picurl?,
  desc? ≤ 512 bytes}} | {msgtype: image, image: {media_id | pic_url}} | {msgtype: miniprogram,
  miniprogram: {title ≤ 64 bytes, pic_media_id, appid, page ending in .html}} | {msgtype: video |
  file, video|file: {media_id}}]}``: a code works once, within 20 s of being issued by
  :meth:`FakeWecom.new_welcome_code` (else ``41051``); a malformed attachment answers ``40058``
  and leaves the code unused. Accepted messages are kept in ``welcomes``.
- ``POST externalcontact/add_msg_template`` ``{chat_type, external_userid ≤ 10000, sender?, text?,
  attachments?}`` → ``{msgid, fail_list}`` (ids in ``unreachable`` are listed as failed).

Errcodes used besides the token ones: ``40058`` invalid parameter (bad or missing fields, unknown
config_id), ``40003`` unknown userid (when ``users`` is set), ``40050`` unknown chat id, ``41051``
used/expired welcome code. :meth:`FakeWecom.fail_next` makes the next call(s) to a path answer a
given errcode (e.g. ``45009``, ``-1``). The helpers at the bottom build signed and encrypted
callbacks exactly as 企业微信 sends them.

A tester drives it over HTTP under ``/fake/...`` (groups, customers adding staff through a contact
way, joining and leaving groups, welcome codes) and, with ``state_path``, its state survives a
restart: see :mod:`devstack.fake_wecom_driver`.
"""
from __future__ import annotations

import io
import json
import threading
import time
import uuid
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

WELCOME_CODE_SECONDS = 20


class FakeWecom:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, expires_in: int = 7200,
                 token_lifetime: float = 7200.0, corps: dict[str, str] | None = None,
                 state_path: Path | None = None) -> None:
        self.host, self.port = host, port
        self.expires_in, self.token_lifetime = expires_in, token_lifetime
        self.corps = corps
        self.users: set[str] | None = None
        self.unreachable: set[str] = set()
        self.calls: list[dict] = []
        self.tokens: dict[str, tuple[str, float]] = {}  # token -> (corp_id, dies_at)
        self.contact_ways: dict[str, dict] = {}
        self.join_ways: dict[str, dict] = {}
        self.chats: dict[str, dict] = {}
        self.welcome_codes: dict[str, float] = {}
        self.customers: dict[str, dict] = {}
        self.welcomes: list[dict] = []
        self.templates: list[dict] = []
        self.callback: dict | None = None  # {url, token, encoding_aes_key, corp_id}: POST /fake/callback
        self._failures: dict[str, list[tuple[int, str]]] = {}
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self.state_path = state_path
        self.restored = False
        if state_path is not None:
            from devstack import fake_wecom_driver

            self.restored = fake_wecom_driver.load(self, state_path)

    # ---- life cycle ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                fake._handle(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                fake._handle(self, "POST")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-wecom").start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeWecom":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- test controls -----------------------------------------------------------------------------

    def fail_next(self, path: str, errcode: int, errmsg: str = "injected failure", times: int = 1) -> None:
        """The next ``times`` calls whose path ends with ``path`` answer ``errcode``."""
        with self._lock:
            self._failures.setdefault(path, []).extend([(errcode, errmsg)] * times)

    def calls_to(self, path: str) -> list[dict]:
        with self._lock:
            return [c for c in self.calls if c["path"].endswith(path)]

    def expire_tokens(self) -> None:
        with self._lock:
            self.tokens = {t: (corp, 0.0) for t, (corp, _) in self.tokens.items()}

    def add_chat(self, chat_id: str, owner: str = "staff1", staff: Iterable[str] = (),
                 customers: int = 0) -> dict:
        now = int(time.time())
        members = [{"userid": owner, "type": 1, "join_time": now, "join_scene": 1}]
        members += [{"userid": u, "type": 1, "join_time": now, "join_scene": 1} for u in staff]
        members += [{"userid": f"wm{chat_id}{i}", "type": 2, "join_time": now, "join_scene": 1}
                    for i in range(customers)]
        with self._lock:
            self.chats[chat_id] = {"chat_id": chat_id, "name": chat_id, "owner": owner,
                                   "create_time": now, "member_list": members, "admin_list": []}
            return self.chats[chat_id]

    def join_chat(self, chat_id: str, userid: str, state: str | None = None, customer: bool = True,
                  unionid: str | None = None) -> None:
        member = {"userid": userid, "type": 2 if customer else 1, "join_time": int(time.time()),
                  "join_scene": 3 if state else 1}
        if state:
            member["state"] = state
        if unionid:
            member["unionid"] = unionid
        with self._lock:
            self.chats[chat_id]["member_list"].append(member)

    def leave_chat(self, chat_id: str, userid: str) -> None:
        with self._lock:
            chat = self.chats[chat_id]
            chat["member_list"] = [m for m in chat["member_list"] if m["userid"] != userid]

    def add_customer(self, external_userid: str, name: str = "客户", unionid: str | None = None,
                     follow_user: Iterable[str] = ()) -> dict:
        contact = {"external_userid": external_userid, "name": name, "type": 1}
        if unionid:
            contact["unionid"] = unionid
        with self._lock:
            self.customers[external_userid] = {"external_contact": contact, "follow_user": [
                {"userid": u, "createtime": int(time.time()), "state": ""} for u in follow_user]}
            return contact

    def new_welcome_code(self) -> str:
        code = "WELCOME" + uuid.uuid4().hex[:16]
        with self._lock:
            self.welcome_codes[code] = time.time()
        return code

    # ---- HTTP ----------------------------------------------------------------------------------

    def _handle(self, req: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urlparse(req.path)
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        if parsed.path.startswith("/qr/"):
            return self._qr(req, parsed.path[4:])
        length = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        status = 200
        if parsed.path.startswith("/fake/"):  # the tester's controls (they take the lock briefly)
            from devstack import fake_wecom_driver

            status, answer = fake_wecom_driver.handle(self, method, parsed.path, body)
        else:
            with self._lock:
                self.calls.append({"method": method, "path": parsed.path, "query": query,
                                   "body": body})
                answer = self._answer(method, parsed.path, query, body)
                if method == "POST" and self.state_path is not None and answer.get("errcode") == 0:
                    from devstack import fake_wecom_driver

                    fake_wecom_driver.save(self, self.state_path)
        data = json.dumps(answer, ensure_ascii=False).encode()
        req.send_response(status)
        req.send_header("Content-Type", "application/json; charset=utf-8")
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        req.wfile.write(data)

    def _qr(self, req: BaseHTTPRequestHandler, name: str) -> None:
        import qrcode

        config_id = name.removesuffix(".png")
        if config_id not in self.contact_ways and config_id not in self.join_ways:
            req.send_response(404)
            req.end_headers()
            return
        out = io.BytesIO()
        qrcode.make(f"https://work.weixin.qq.com/fake/{config_id}").save(out)
        data = out.getvalue()
        req.send_response(200)
        req.send_header("Content-Type", "image/png")
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        req.wfile.write(data)

    def _answer(self, method: str, path: str, query: dict, body: Any) -> dict:
        for suffix, queue in self._failures.items():
            if path.endswith(suffix) and queue:
                errcode, errmsg = queue.pop(0)
                return {"errcode": errcode, "errmsg": errmsg}
        if path == "/cgi-bin/gettoken":
            return self._gettoken(query)
        token_error = self._check_token(query.get("access_token"))
        if token_error:
            return token_error
        name = path.removeprefix("/cgi-bin/externalcontact/")
        if method == "GET" and name in GET_ROUTES:
            return GET_ROUTES[name](self, query)
        if method != "POST" or not isinstance(body, dict):
            return _err(40058, "invalid parameter: a JSON object body is required")
        handler = ROUTES.get(name)
        if handler is None:
            return _err(40058, f"unknown api {path}")
        return handler(self, body)

    def _gettoken(self, query: dict) -> dict:
        corp, secret = query.get("corpid", ""), query.get("corpsecret", "")
        if not corp or not secret:
            return _err(41002 if not corp else 41004, "missing corpid or corpsecret")
        if self.corps is not None:
            if corp not in self.corps:
                return _err(40013, "invalid corpid")
            if self.corps[corp] != secret:
                return _err(40001, "invalid credential")
        now = time.time()
        for token, (owner, dies_at) in self.tokens.items():
            if owner == corp and dies_at > now:
                return {"errcode": 0, "errmsg": "ok", "access_token": token,
                        "expires_in": max(1, int(min(self.expires_in, dies_at - now)))}
        token = "tok" + uuid.uuid4().hex
        self.tokens[token] = (corp, now + self.token_lifetime)
        return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.expires_in}

    def _check_token(self, token: str | None) -> dict | None:
        if not token:
            return _err(41001, "access_token missing")
        if token not in self.tokens:
            return _err(40014, "invalid access_token")
        if self.tokens[token][1] <= time.time():
            return _err(42001, "access_token expired")
        return None

    # ---- contact ways ----------------------------------------------------------------------------

    def _check_users(self, users: Any, way_type: int) -> dict | None:
        if not isinstance(users, list) or not users or not all(isinstance(u, str) for u in users):
            return _err(40058, "invalid parameter: user")
        if way_type == 1 and len(users) != 1:
            return _err(40058, "invalid parameter: a single contact way takes one user")
        if len(users) > 100:
            return _err(40058, "invalid parameter: at most 100 users")
        unknown = [u for u in users if self.users is not None and u not in self.users]
        return _err(40003, f"invalid userid {unknown[0]}") if unknown else None

    def add_contact_way(self, body: dict) -> dict:
        way_type, scene = body.get("type"), body.get("scene")
        if way_type not in (1, 2) or scene not in (1, 2):
            return _err(40058, "invalid parameter: type / scene")
        if len(str(body.get("state", ""))) > 30:
            return _err(40058, "invalid parameter: state longer than 30")
        error = self._check_users(body.get("user"), way_type)
        if error:
            return error
        config_id = uuid.uuid4().hex
        self.contact_ways[config_id] = dict(body)
        answer = {"errcode": 0, "errmsg": "ok", "config_id": config_id}
        if scene == 2:
            answer["qr_code"] = f"{self.url}/qr/{config_id}.png"
        return answer

    def update_contact_way(self, body: dict) -> dict:
        way = self.contact_ways.get(body.get("config_id"))
        if way is None:
            return _err(40058, "invalid config_id")
        if "user" in body:
            error = self._check_users(body["user"], way["type"])
            if error:
                return error
        if len(str(body.get("state", ""))) > 30:
            return _err(40058, "invalid parameter: state longer than 30")
        way.update({k: v for k, v in body.items() if k != "config_id"})
        return _ok()

    def del_contact_way(self, body: dict) -> dict:
        if self.contact_ways.pop(body.get("config_id"), None) is None:
            return _err(40058, "invalid config_id")
        return _ok()

    # ---- group join ways -------------------------------------------------------------------------

    def _check_join(self, body: dict) -> dict | None:
        chats = body.get("chat_id_list")
        if not isinstance(chats, list) or not 1 <= len(chats) <= 5:
            return _err(40058, "invalid parameter: chat_id_list takes 1 to 5 chat ids")
        unknown = [c for c in chats if c not in self.chats]
        if unknown:
            return _err(40050, f"invalid chatid {unknown[0]}")
        if len(str(body.get("state", ""))) > 30:
            return _err(40058, "invalid parameter: state longer than 30")
        return None

    def add_join_way(self, body: dict) -> dict:
        if body.get("scene") not in (1, 2):
            return _err(40058, "invalid parameter: scene")
        error = self._check_join(body)
        if error:
            return error
        config_id = uuid.uuid4().hex
        self.join_ways[config_id] = dict(body)
        return {"errcode": 0, "errmsg": "ok", "config_id": config_id}

    def get_join_way(self, body: dict) -> dict:
        way = self.join_ways.get(body.get("config_id"))
        if way is None:
            return _err(40058, "invalid config_id")
        join_way = {"config_id": body["config_id"], "remark": way.get("remark", ""),
                    "scene": way["scene"], "auto_create_room": way.get("auto_create_room", 1),
                    "room_base_name": way.get("room_base_name", ""),
                    "room_base_id": way.get("room_base_id", 0), "chat_id_list": way["chat_id_list"],
                    "state": way.get("state", "")}
        if way["scene"] == 2:
            join_way["qr_code"] = f"{self.url}/qr/{body['config_id']}.png"
        return {"errcode": 0, "errmsg": "ok", "join_way": join_way}

    def update_join_way(self, body: dict) -> dict:
        way = self.join_ways.get(body.get("config_id"))
        if way is None:
            return _err(40058, "invalid config_id")
        error = self._check_join(body)
        if error:
            return error
        way.update({k: v for k, v in body.items() if k != "config_id"})
        return _ok()

    def del_join_way(self, body: dict) -> dict:
        if self.join_ways.pop(body.get("config_id"), None) is None:
            return _err(40058, "invalid config_id")
        return _ok()

    def group_chat(self, body: dict) -> dict:
        chat = self.chats.get(body.get("chat_id"))
        if chat is None:
            return _err(40050, "invalid chatid")
        return {"errcode": 0, "errmsg": "ok", "group_chat": json.loads(json.dumps(chat))}

    def get_external_contact(self, query: dict) -> dict:
        external = query.get("external_userid", "")
        found = self.customers.get(external)
        if found is None and external.startswith("wm"):
            found = {"external_contact": {"external_userid": external, "name": "客户", "type": 1},
                     "follow_user": []}
        if found is None:
            return _err(40096, "invalid external userid")
        return {"errcode": 0, "errmsg": "ok", **json.loads(json.dumps(found))}

    # ---- messages --------------------------------------------------------------------------------

    def send_welcome_msg(self, body: dict) -> dict:
        code = body.get("welcome_code")
        issued = self.welcome_codes.get(code) if isinstance(code, str) else None
        if issued is None or time.time() - issued > WELCOME_CODE_SECONDS:
            return _err(41051, "invalid welcome_code: used or expired")
        if not body.get("text") and not body.get("attachments"):
            return _err(40058, "invalid parameter: text or attachments required")
        problem = _check_text(body.get("text")) or _check_attachments(body.get("attachments"))
        if problem:
            return _err(40058, f"invalid parameter: {problem}")
        del self.welcome_codes[code]
        self.welcomes.append(dict(body))
        return _ok()

    def add_msg_template(self, body: dict) -> dict:
        ids = body.get("external_userid")
        if body.get("chat_type", "single") not in ("single", "group"):
            return _err(40058, "invalid parameter: chat_type")
        if not isinstance(ids, list) or len(ids) > 10_000:
            return _err(40058, "invalid parameter: external_userid takes at most 10000 ids")
        if not body.get("text") and not body.get("attachments"):
            return _err(40058, "invalid parameter: text or attachments required")
        msgid = "msg" + uuid.uuid4().hex[:20]
        self.templates.append({"msgid": msgid, **body})
        return {"errcode": 0, "errmsg": "ok", "msgid": msgid,
                "fail_list": [i for i in ids if i in self.unreachable]}


ROUTES = {
    "add_contact_way": FakeWecom.add_contact_way,
    "update_contact_way": FakeWecom.update_contact_way,
    "del_contact_way": FakeWecom.del_contact_way,
    "groupchat/add_join_way": FakeWecom.add_join_way,
    "groupchat/get_join_way": FakeWecom.get_join_way,
    "groupchat/update_join_way": FakeWecom.update_join_way,
    "groupchat/del_join_way": FakeWecom.del_join_way,
    "groupchat/get": FakeWecom.group_chat,
    "send_welcome_msg": FakeWecom.send_welcome_msg,
    "add_msg_template": FakeWecom.add_msg_template,
}
GET_ROUTES = {"get": FakeWecom.get_external_contact}
ATTACHMENT_FIELDS = {  # msgtype -> (required fields, optional fields, {field: max bytes})
    "link": ({"title", "url"}, {"picurl", "desc"}, {"title": 128, "url": 2048, "desc": 512,
                                                    "picurl": 2048}),
    "image": (set(), {"media_id", "pic_url"}, {"pic_url": 2048}),
    "miniprogram": ({"title", "pic_media_id", "appid", "page"}, set(), {"title": 64}),
    "video": ({"media_id"}, set(), {}),
    "file": ({"media_id"}, set(), {}),
}


def _check_text(text: Any) -> str | None:
    if text is None:
        return None
    if not isinstance(text, dict) or not isinstance(text.get("content"), str):
        return "text must be {content}"
    return "text.content is longer than 4000 bytes" if len(text["content"].encode()) > 4000 else None


def _check_attachments(attachments: Any) -> str | None:
    if attachments is None:
        return None
    if not isinstance(attachments, list) or len(attachments) > 9:
        return "attachments takes a list of at most 9"
    for i, item in enumerate(attachments):
        msgtype = item.get("msgtype") if isinstance(item, dict) else None
        if msgtype not in ATTACHMENT_FIELDS or set(item) != {"msgtype", msgtype}:
            return f"attachments[{i}] must be {{msgtype, <msgtype>: {{...}}}}"
        required, optional, limits = ATTACHMENT_FIELDS[msgtype]
        payload = item[msgtype]
        if not isinstance(payload, dict) or not required <= set(payload) <= required | optional:
            return f"attachments[{i}].{msgtype} needs {sorted(required)}"
        if msgtype == "image" and not payload:
            return f"attachments[{i}].image needs media_id or pic_url"
        for name, value in payload.items():
            if not isinstance(value, str) or not value:
                return f"attachments[{i}].{msgtype}.{name} must be a non-empty string"
            if name in limits and len(value.encode()) > limits[name]:
                return f"attachments[{i}].{msgtype}.{name} is longer than {limits[name]} bytes"
        if msgtype == "miniprogram" and not payload["page"].split("?")[0].endswith(".html"):
            return f"attachments[{i}].miniprogram.page must end with .html"
    return None


def _ok() -> dict:
    return {"errcode": 0, "errmsg": "ok"}


def _err(errcode: int, errmsg: str) -> dict:
    return {"errcode": errcode, "errmsg": errmsg}


# ---- callbacks as 企业微信 sends them ----------------------------------------------------------------

def contact_added(corp_id: str, userid: str, external_userid: str, state: str | None = None,
                  welcome_code: str | None = None, create_time: int | None = None) -> dict:
    fields: dict[str, Any] = {"ToUserName": corp_id, "FromUserName": "sys",
                              "CreateTime": create_time or int(time.time()), "MsgType": "event",
                              "Event": "change_external_contact", "ChangeType": "add_external_contact",
                              "UserID": userid, "ExternalUserID": external_userid}
    if state is not None:
        fields["State"] = state
    if welcome_code is not None:
        fields["WelcomeCode"] = welcome_code
    return fields


def contact_removed(corp_id: str, userid: str, external_userid: str, change_type: str =
                    "del_external_contact", create_time: int | None = None) -> dict:
    return {"ToUserName": corp_id, "FromUserName": "sys",
            "CreateTime": create_time or int(time.time()), "MsgType": "event",
            "Event": "change_external_contact", "ChangeType": change_type, "UserID": userid,
            "ExternalUserID": external_userid}


def chat_members_changed(corp_id: str, chat_id: str, detail: str, userids: list[str],
                         create_time: int | None = None) -> dict:
    return {"ToUserName": corp_id, "FromUserName": "sys",
            "CreateTime": create_time or int(time.time()), "MsgType": "event",
            "Event": "change_external_chat", "ChatId": chat_id, "ChangeType": "update",
            "UpdateDetail": detail, "JoinScene": 3, "QuitScene": 0,
            "MemChangeCnt": len(userids), "MemChangeList": userids}


def signed_callback(token: str, encoding_aes_key: str, corp_id: str, fields: dict,
                    timestamp: str | None = None, nonce: str | None = None):
    """The (query, body) 企业微信 POSTs for an event: encrypted, then signed."""
    from chalicelib.wecom import crypto

    return crypto.seal_callback(token, encoding_aes_key, corp_id, crypto.to_xml(fields),
                                timestamp or str(int(time.time())), nonce or uuid.uuid4().hex[:10])


def main() -> None:  # python -m devstack.fake_wecom: run it alone
    import os

    state = os.environ.get("YUTANG_FAKE_WECOM_STATE")  # a JSON file that keeps its state
    fake = FakeWecom(port=int(os.environ.get("YUTANG_FAKE_WECOM_PORT", "8010")),
                     state_path=Path(state) if state else None)
    print(f"fake 企业微信 on {fake.start()} (Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
