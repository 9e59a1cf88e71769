"""A small local stand-in for the WeChat API (loopback, threaded), used by tests and `make dev`.

It implements ``GET /sns/jscode2session`` with WeChat's documented request and answers:
``{"openid", "session_key", "unionid"}`` or ``{"errcode", "errmsg"}``. Codes are shaped for demos:

- ``<who>`` or ``<who>:<nonce>``: a login of person ``who``; the openid depends on the appid and
  ``who``, the unionid on ``who`` alone (one person across a brand's apps). ``<who>`` starting
  with ``nounion`` gets no unionid.
- each code works once (a second use answers 40163, "code been used");
- ``invalid…`` answers 40029, ``ratelimit…`` 45011 and ``busy…`` -1 (system busy);
- an appid/secret pair other than the registered ones answers 40013 / 40125.

The mini-program server API (access tokens, 小程序码, URL Link/Scheme) and its tester controls
(``/fake/wxa/...``) are :mod:`devstack.fake_wxa`'s.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from devstack.fake_wxa import FakeWxa

DEFAULT_APPID = "wx00000000000000d0"
DEFAULT_SECRET = "fake-wechat-secret"


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:22]


class FakeWeChat:
    def __init__(self, apps: dict[str, str] | None = None, host: str = "127.0.0.1", port: int = 0):
        self.apps = dict(apps or {DEFAULT_APPID: DEFAULT_SECRET})
        self.used: set[str] = set()
        self.requests: list[dict] = []
        self.wxa = FakeWxa(self.apps)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="fake-wechat")

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, params: dict[str, str]) -> dict:
        appid, secret = params.get("appid", ""), params.get("secret", "")
        code = params.get("js_code", "")
        with self._lock:
            self.requests.append(dict(params))
            if params.get("grant_type") != "authorization_code" or not code:
                return {"errcode": 40002, "errmsg": "invalid grant_type"}
            if appid not in self.apps:
                return {"errcode": 40013, "errmsg": "invalid appid"}
            if self.apps[appid] != secret:
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            if code.startswith("invalid"):
                return {"errcode": 40029, "errmsg": "invalid code"}
            if code.startswith("ratelimit"):
                return {"errcode": 45011, "errmsg": "api minute-quota reach limit"}
            if code.startswith("busy"):
                return {"errcode": -1, "errmsg": "system error"}
            if (appid, code) in self.used:
                return {"errcode": 40163, "errmsg": "code been used"}
            self.used.add((appid, code))
        who = code.split(":", 1)[0]
        body = {"openid": "o" + _digest(appid, who), "session_key": _digest("sk", appid, code)}
        if not who.startswith("nounion"):
            body["unionid"] = "u" + _digest(who)
        return body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                parsed = urlparse(self.path)
                if parsed.path == "/fake/wxa/state":
                    self._send(200, fake.wxa.state())
                    return
                if parsed.path != "/sns/jscode2session":
                    self._send(404, {"errcode": 404, "errmsg": "not found"})
                    return
                params = {k: v[0] for k, v in parse_qs(parsed.query).items()}
                self._send(200, fake.answer(params))

            def do_POST(self) -> None:  # noqa: N802
                parsed = urlparse(self.path)
                params = {k: v[0] for k, v in parse_qs(parsed.query).items()}
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = None
                if not isinstance(body, dict):
                    self._send(200, {"errcode": 47001, "errmsg": "data format error"})
                    return
                control = fake.wxa.control(parsed.path, body)
                answer = fake.wxa.post(parsed.path, params, body) if control is None else None
                if control is not None:
                    self._send(200, control)
                elif answer is None:
                    self._send(404, {"errcode": 404, "errmsg": "not found"})
                elif answer[0] == "png":
                    self._send(200, answer[1], "image/png")
                else:
                    self._send(200, answer[1])

            def _send(self, status: int, body: dict | bytes, content_type: str = "text/plain") -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)  # text/plain for JSON, as WeChat does
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def start_for_dev(env: dict) -> FakeWeChat | None:
    """`make dev`: serve code2session on loopback and make it the default mini-program, unless
    YUTANG_WECHAT_API_BASE already points somewhere (a real or another fake WeChat)."""
    if env.get("YUTANG_WECHAT_API_BASE"):
        return None
    fake = FakeWeChat()
    env["YUTANG_WECHAT_API_BASE"] = fake.start()
    env.setdefault("YUTANG_WECHAT_APPID", DEFAULT_APPID)
    env.setdefault("YUTANG_WECHAT_SECRET", DEFAULT_SECRET)
    if env["YUTANG_WECHAT_APPID"] != DEFAULT_APPID:
        fake.apps[env["YUTANG_WECHAT_APPID"]] = env["YUTANG_WECHAT_SECRET"]
    return fake


ENV = ("YUTANG_WECHAT_API_BASE", "YUTANG_WECHAT_APPID", "YUTANG_WECHAT_SECRET")


@contextmanager
def as_default() -> Iterator[FakeWeChat]:
    """A started fake, set as the deployment's default mini-program for the block (tests, bench);
    the environment, settings and mini-program caches are restored after. Settings are re-read and
    cached at once: ``chalice.test.Client`` swaps ``os.environ`` during each request."""
    from chalicelib.mp import service as mp
    from chalicelib.settings import get_settings, reset_settings

    fake = FakeWeChat()
    saved = {k: os.environ.get(k) for k in ENV}
    os.environ.update({"YUTANG_WECHAT_API_BASE": fake.start(), "YUTANG_WECHAT_APPID": DEFAULT_APPID,
                       "YUTANG_WECHAT_SECRET": DEFAULT_SECRET})
    reset_settings()
    get_settings()
    mp.clear_caches()
    try:
        yield fake
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_settings()
        get_settings()
        mp.clear_caches()
        fake.stop()
