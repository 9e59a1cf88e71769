"""The fake WeChat's mini-program server API (used by :class:`devstack.fake_wechat.FakeWeChat`).

Implements, with WeChat's request and answer shapes:

- ``POST /cgi-bin/stable_token`` ``{grant_type, appid, secret, force_refresh}`` →
  ``{access_token, expires_in: 7200}`` (the same token while valid, as WeChat's normal mode);
- ``POST /wxa/getwxacodeunlimit`` → a real PNG: a QR code whose text is
  ``wxa:<appid>:<env_version>:<page>?scene=<scene>`` (a test decodes it), or HTTP 200 with
  ``{"errcode", "errmsg"}``: 40169 for an invalid scene (> 32 characters or outside WeChat's
  character set), 41030 for a page outside ``pages/`` while ``check_path`` is true;
- ``POST /wxa/generate_urllink`` → ``{url_link: "https://wxaurl.cn/..."}`` and
  ``POST /wxa/generatescheme`` → ``{openlink: "weixin://dl/business/?t=..."}``; an expiry more than
  30 days ahead (or in the past) answers 40097 (invalid args);
- a missing or unknown token answers 40001, a token issued before :meth:`FakeWxa.expire_tokens`
  42001 (expired).

Driven over HTTP by a tester: ``GET /fake/wxa/state`` (calls per path, tokens issued),
``POST /fake/wxa/expire-tokens`` and ``POST /fake/wxa/fail`` ``{"path", "errcode", "times"}`` (the
next ``times`` calls of that path answer that errcode).
"""
from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import Counter
from typing import Any

SCENE = re.compile(r"^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}$")
MAX_LINK_SECONDS = 30 * 86400
Answer = tuple[str, Any]  # ("json", dict) | ("png", bytes)


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


class FakeWxa:
    def __init__(self, apps: dict[str, str]) -> None:
        self.apps = apps  # shared with FakeWeChat: appid -> secret
        self.calls: Counter[str] = Counter()
        self.tokens: dict[str, tuple[str, int]] = {}  # token -> (appid, generation)
        self.generation = 0
        self.failures: dict[str, list[int]] = {}  # path -> errcodes still to answer
        self.issued = 0
        self.links = 0
        self._lock = threading.Lock()

    # ---- tester controls ----------------------------------------------------------------------

    def expire_tokens(self) -> None:
        with self._lock:
            self.generation += 1

    def fail(self, path: str, errcode: int, times: int = 1) -> None:
        with self._lock:
            self.failures.setdefault(path, []).extend([int(errcode)] * int(times))

    def state(self) -> dict:
        with self._lock:
            return {"calls": dict(self.calls), "tokens_issued": self.issued,
                    "token_generation": self.generation,
                    "pending_failures": {k: list(v) for k, v in self.failures.items() if v}}

    def control(self, path: str, body: dict) -> dict | None:
        """``/fake/wxa/...`` requests; None when ``path`` is not one."""
        if path == "/fake/wxa/expire-tokens":
            self.expire_tokens()
        elif path == "/fake/wxa/fail":
            self.fail(str(body.get("path", "")), int(body.get("errcode", -1)),
                      int(body.get("times", 1)))
        elif path != "/fake/wxa/state":
            return None
        return self.state()

    # ---- the API --------------------------------------------------------------------------------

    def post(self, path: str, params: dict[str, str], body: dict) -> Answer | None:
        """WeChat's answer to ``POST path``; None when the path is not one of this module's."""
        handlers = {"/cgi-bin/stable_token": self._stable_token,
                    "/wxa/getwxacodeunlimit": self._wxacode,
                    "/wxa/generate_urllink": self._urllink,
                    "/wxa/generatescheme": self._scheme}
        if path not in handlers:
            return None
        with self._lock:
            self.calls[path] += 1
            pending = self.failures.get(path)
            if pending:
                return "json", {"errcode": pending.pop(0), "errmsg": "injected by the fake"}
        if path != "/cgi-bin/stable_token":
            error = self._check_token(params.get("access_token", ""))
            if error:
                return "json", error
            body = {**body, "_appid": self.tokens[params["access_token"]][0]}
        return handlers[path](body)

    def _stable_token(self, body: dict) -> Answer:
        appid, secret = body.get("appid", ""), body.get("secret", "")
        if body.get("grant_type") != "client_credential":
            return "json", {"errcode": 40002, "errmsg": "invalid grant_type"}
        if appid not in self.apps:
            return "json", {"errcode": 40013, "errmsg": "invalid appid"}
        if self.apps[appid] != secret:
            return "json", {"errcode": 40125, "errmsg": "invalid appsecret"}
        with self._lock:
            token = "fwt_" + _digest(appid, secret, self.generation)[:40]
            if token not in self.tokens:
                self.issued += 1
            self.tokens[token] = (appid, self.generation)
        return "json", {"access_token": token, "expires_in": 7200}

    def _check_token(self, token: str) -> dict | None:
        with self._lock:
            known = self.tokens.get(token)
            if known is None:
                return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
            if known[1] != self.generation:
                return {"errcode": 42001, "errmsg": "access_token expired"}
        return None

    def _wxacode(self, body: dict) -> Answer:
        from chalicelib import qr

        scene, page = str(body.get("scene", "")), str(body.get("page", "") or "")
        if not SCENE.match(scene):
            return "json", {"errcode": 40169, "errmsg": "invalid length for scene"}
        if body.get("check_path", True) and page and not page.startswith("pages/"):
            return "json", {"errcode": 41030, "errmsg": "invalid page hint"}
        width = max(280, min(1280, int(body.get("width") or 430)))
        env = body.get("env_version") or "release"
        text = f"wxa:{body['_appid']}:{env}:{page}?scene={scene}"
        return "png", qr.render_png(text, qr.QrStyle(size=width), None)

    def _expiry(self, body: dict) -> dict | None:
        expire_time = body.get("expire_time")
        now = time.time()
        if body.get("expire_type", 0) != 0 or not isinstance(expire_time, int) \
                or not now < expire_time <= now + MAX_LINK_SECONDS + 60:
            return {"errcode": 40097, "errmsg": "invalid args: expire_time"}
        return None

    def _urllink(self, body: dict) -> Answer:
        return self._link(body, "url_link", "https://wxaurl.cn/", 12)

    def _scheme(self, body: dict) -> Answer:
        return self._link(body, "openlink", "weixin://dl/business/?t=", 11)

    def _link(self, body: dict, field: str, prefix: str, length: int) -> Answer:
        error = self._expiry(body)
        if error:
            return "json", error
        with self._lock:
            self.links += 1
            n = self.links
        return "json", {"errcode": 0, "errmsg": "ok", field: prefix + _digest(field, n, body)[:length]}
