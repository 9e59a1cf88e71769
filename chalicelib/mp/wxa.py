"""WeChat's mini-program code and link APIs: ``wxa/getwxacodeunlimit`` (小程序码),
``wxa/generate_urllink`` (URL Link) and ``wxa/generatescheme`` (URL Scheme).

Each call adds the app's access token (:mod:`chalicelib.mp.access`); a token WeChat refuses
(40001/40014/42001) is dropped, fetched again and the call retried once. ``getwxacodeunlimit``
answers HTTP 200 with the image, or HTTP 200 with ``{"errcode", "errmsg"}``: the answer's first
bytes tell which. Errors become domain errors carrying WeChat's ``errcode``: busy or rate limited
(-1, 45009) is ``wechat-unavailable`` (503, retry later), anything else ``wechat-rejected`` (502).
"""
from __future__ import annotations

import json
from urllib.parse import urlencode

from chalicelib.error_codes import WECHAT_REJECTED
from chalicelib.errors import DomainError
from chalicelib.mp import access, wechat
from chalicelib.settings import get_settings

MAX_IMAGE = 2 * 1024 * 1024
RETRYABLE = frozenset({-1, 45009})


class WeChatRejected(DomainError):
    status = 502
    code = WECHAT_REJECTED


def _error(path: str, answer: dict) -> DomainError:
    errcode = answer.get("errcode")
    details = {"errcode": errcode if isinstance(errcode, int) else None,
               "errmsg": str(answer.get("errmsg", ""))[:200]}
    if errcode in RETRYABLE:
        return wechat.WeChatUnavailable(f"WeChat {path} is busy (errcode {errcode}); retry later",
                                        details=details)
    return WeChatRejected(f"WeChat {path} refused the request (errcode {errcode})", details=details)


def call(appid: str, secret: str, path: str, body: dict, max_bytes: int = 64 * 1024) -> dict | bytes:
    """POST ``body`` to ``path`` for the app: the image bytes or the JSON answer (errcode 0)."""
    cfg = get_settings()
    data = json.dumps(body, ensure_ascii=False).encode()
    for attempt in (1, 2):
        token = access.token(appid, secret)
        url = f"{cfg.wechat_api_base}{path}?" + urlencode({"access_token": token})
        answer = wechat.post(url, data, cfg.wechat_timeout_seconds, max_bytes)
        if isinstance(answer, bytes):
            return answer
        errcode = answer.get("errcode") or 0
        if errcode == 0:
            return answer
        if errcode in access.TOKEN_ERRCODES and attempt == 1:
            access.forget(appid, secret, token)
            continue
        raise _error(path, answer)
    raise AssertionError("unreachable")


def wxacode(appid: str, secret: str, body: dict) -> bytes:
    answer = call(appid, secret, "/wxa/getwxacodeunlimit", body, MAX_IMAGE)
    if not isinstance(answer, bytes):
        raise wechat.WeChatUnavailable("WeChat answered getwxacodeunlimit without an image")
    return answer


def link(appid: str, secret: str, kind: str, body: dict) -> str:
    """A URL Link (``kind`` url_link) or URL Scheme (``scheme``) for the body WeChat expects."""
    path, field = ("/wxa/generate_urllink", "url_link") if kind == "url_link" \
        else ("/wxa/generatescheme", "openlink")
    answer = call(appid, secret, path, body)
    value = answer.get(field) if isinstance(answer, dict) else None
    if not isinstance(value, str) or not value:
        raise wechat.WeChatUnavailable(f"WeChat {path} answered without {field}")
    return value
