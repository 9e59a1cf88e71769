"""The mini-program's server ``access_token``, from ``POST /cgi-bin/stable_token``, per container.

Why stable_token and no shared store: in its normal mode (``force_refresh`` false) WeChat answers
every caller the same token while it is valid and never revokes a token another container still
holds (``cgi-bin/token`` does revoke the previous one), so each container may fetch and keep its
own copy without a table. A token is kept until ``expires_in`` minus a margin; when WeChat refuses
it (errcode 40001, 40014 or 42001) the caller drops it with :func:`forget` and fetches again once.
Tokens and secrets are never logged.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time

from chalicelib.mp import wechat
from chalicelib.settings import get_settings

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
MARGIN_SECONDS = 300
_tokens: dict[str, tuple[str, float]] = {}  # appid + secret fingerprint -> (token, expires epoch)
_lock = threading.Lock()


def _slot(appid: str, secret: str) -> str:
    return appid + ":" + hashlib.sha256(secret.encode()).hexdigest()[:16]


def token(appid: str, secret: str) -> str:
    slot = _slot(appid, secret)
    hit = _tokens.get(slot)
    if hit and hit[1] > time.time():
        return hit[0]
    with _lock:  # one fetch per container at a time
        hit = _tokens.get(slot)
        if hit and hit[1] > time.time():
            return hit[0]
        value, expires_in = _fetch(appid, secret)
        _tokens[slot] = (value, time.time() + max(60, expires_in - MARGIN_SECONDS))
        return value


def forget(appid: str, secret: str, refused: str) -> None:
    """Drop a token WeChat refused (unless another thread replaced it already)."""
    slot = _slot(appid, secret)
    if _tokens.get(slot, ("",))[0] == refused:
        _tokens.pop(slot, None)


def clear() -> None:
    _tokens.clear()


def _fetch(appid: str, secret: str) -> tuple[str, int]:
    cfg = get_settings()
    body = json.dumps({"grant_type": "client_credential", "appid": appid, "secret": secret,
                       "force_refresh": False}).encode()
    answer = wechat.post(f"{cfg.wechat_api_base}/cgi-bin/stable_token", body,
                         cfg.wechat_timeout_seconds)
    if not isinstance(answer, dict):
        raise wechat.WeChatUnavailable("WeChat answered stable_token with an image")
    errcode = answer.get("errcode") or 0
    value, expires_in = answer.get("access_token"), answer.get("expires_in", 7200)
    if errcode == 0 and isinstance(value, str) and value and isinstance(expires_in, int):
        return value, expires_in
    if errcode in (-1, 45009):
        raise wechat.WeChatUnavailable("WeChat is busy issuing access tokens; retry shortly",
                                       details={"errcode": errcode})
    raise wechat.WeChatMisconfigured(
        f"WeChat refused the mini-program's appid/secret for an access token (errcode {errcode})",
        details={"errcode": errcode})
