"""WeChat ``jscode2session`` (auth.code2Session): exchange a ``wx.login`` code for the openid.

``GET {base}/sns/jscode2session?appid=&secret=&js_code=&grant_type=authorization_code`` answers
``{"openid", "session_key", "unionid"?}`` or ``{"errcode", "errmsg"}``. The base URL is
``YUTANG_WECHAT_API_BASE`` (tests and ``make dev`` point it at the local fake).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from chalicelib import fetch
from chalicelib.error_codes import INVALID_CODE, WECHAT_MISCONFIGURED, WECHAT_RATE_LIMITED, WECHAT_UNAVAILABLE
from chalicelib.errors import DomainError, RateLimited, Unauthorized
from chalicelib.settings import get_settings

MAX_RESPONSE = 64 * 1024


class WeChatUnavailable(DomainError):
    status = 503
    code = WECHAT_UNAVAILABLE


class WeChatMisconfigured(DomainError):
    status = 502
    code = WECHAT_MISCONFIGURED


@dataclass(frozen=True)
class Session:
    openid: str
    unionid: str | None
    session_key: str


def code2session(appid: str, secret: str, code: str) -> Session:
    cfg = get_settings()
    url = f"{cfg.wechat_api_base}/sns/jscode2session?" + urlencode(
        {"appid": appid, "secret": secret, "js_code": code, "grant_type": "authorization_code"})
    return parse(_get_json(url, cfg.wechat_timeout_seconds))


def _get_json(url: str, timeout: float) -> dict:
    body = _send("GET", url, None, timeout, MAX_RESPONSE)
    if not isinstance(body, dict):
        raise WeChatUnavailable("WeChat answered something that is not JSON")
    return body


def post(url: str, body: bytes, timeout: float, max_bytes: int = MAX_RESPONSE) -> dict | bytes:
    """POST JSON to a WeChat server API: the decoded JSON answer, or the image bytes (PNG/JPEG)
    when WeChat answers one (``wxa/getwxacodeunlimit`` answers HTTP 200 either way)."""
    return _send("POST", url, body, timeout, max_bytes)


IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")


def _send(method: str, url: str, body: bytes | None, timeout: float,
          max_bytes: int) -> dict | bytes:
    headers = {"Content-Type": "application/json"} if body is not None else None
    try:
        answer = fetch.request(method, url, body=body, headers=headers, timeout=timeout,
                               max_bytes=max_bytes)
    except fetch.FetchFailed:
        raise WeChatUnavailable("WeChat could not be reached; retry later") from None
    except fetch.FetchRefused as exc:
        raise WeChatMisconfigured(f"the WeChat API base URL is not usable: {exc.message}") from None
    if answer.status >= 400:
        raise WeChatUnavailable(f"WeChat answered HTTP {answer.status}; retry later")
    raw = answer.body
    if raw.startswith(IMAGE_MAGIC):
        return raw
    try:
        decoded = json.loads(raw[:MAX_RESPONSE])
    except ValueError:
        raise WeChatUnavailable("WeChat answered something that is not JSON") from None
    if not isinstance(decoded, dict):
        raise WeChatUnavailable("WeChat answered an unexpected shape")
    return decoded


def parse(body: dict) -> Session:
    """Map WeChat's answer to a session or to a domain error with a stable code."""
    errcode = body.get("errcode") or 0
    if errcode == 0 and isinstance(body.get("openid"), str) and body["openid"]:
        unionid = body.get("unionid")
        return Session(body["openid"], unionid if isinstance(unionid, str) and unionid else None,
                       str(body.get("session_key") or ""))
    if errcode in (40029, 40163, 40226):  # invalid code, code already used, risky user
        raise Unauthorized("the login code is invalid or was already used; call wx.login again",
                           code=INVALID_CODE, field="code")
    if errcode == 45011:
        raise RateLimited("WeChat is rate limiting logins (100 a minute per user); retry shortly",
                          code=WECHAT_RATE_LIMITED)
    if errcode == -1:
        raise WeChatUnavailable("WeChat is busy; retry shortly")
    if errcode in (40013, 40125, 41002, 41004):
        raise WeChatMisconfigured(f"WeChat refused the app credentials (errcode {errcode})")
    raise WeChatUnavailable(f"WeChat answered errcode {errcode}")
