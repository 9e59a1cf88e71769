"""The one 企业微信 server API client, shared by live code ways, callbacks and campaigns.

The client takes the tenant's configuration (:class:`~chalicelib.wecom.config.Config`, opened by
:func:`chalicelib.wecom.integration.load`) instead of loading it, so it knows nothing of where
settings are stored::

    from chalicelib.wecom import client, integration
    config = integration.load(tenant_id)
    result = client.call(config, "POST", "/cgi-bin/externalcontact/add_msg_template", {...})

:func:`call` adds the tenant's access token, sends JSON, and returns the decoded answer when
``errcode`` is 0. Otherwise it raises:

- :class:`WecomRetryable` (HTTP 503, ``wecom-unavailable``) for transport errors, HTTP errors and
  errcodes ``-1`` (system busy), ``45009`` (API frequency limit) and ``45033`` (concurrency limit):
  retry later (SQS consumers simply re-raise);
- :class:`WecomRejected` (HTTP 422, ``wecom-rejected``) for every other errcode, carrying
  ``errcode`` and 企业微信's ``errmsg`` — retrying will not help.

Access tokens come from ``gettoken`` and are cached until ``expires_in`` (7200 s) minus a margin:
in memory per container and in DynamoDB (``wecom_tokens``, sealed) across containers. When 企业微信
answers ``40014``/``42001``/``40001`` (invalid/expired token) the token is dropped from both caches,
fetched again and the call retried once. The base URL is ``YUTANG_WECOM_API_BASE`` (the local fake
server in tests and ``make dev``). Tokens, secrets and URLs with tokens are never logged.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist

from chalicelib.db import condition_failed
from chalicelib.error_codes import WECOM_CREDENTIALS_REJECTED, WECOM_REJECTED, WECOM_UNAVAILABLE
from chalicelib.errors import DomainError
from chalicelib.settings import get_settings
from chalicelib.wecom.config import Config

log = logging.getLogger("yutang.wecom")

TOKEN_ERRCODES = frozenset({40014, 42001, 40001})
RETRYABLE_ERRCODES = frozenset({-1, 45009, 45033})
TOKEN_MARGIN_SECONDS = 300
MAX_RESPONSE_BYTES = 4 * 1024 * 1024

_tokens: dict[str, tuple[str, float, str]] = {}  # tenant -> (token, expires epoch, fingerprint)
_lock = threading.Lock()


class WecomRejected(DomainError):
    status = 422
    code = WECOM_REJECTED
    retryable = False

    def __init__(self, message: str, *, errcode: int | None = None, errmsg: str = "",
                 code: str | None = None, field: str | None = None) -> None:
        super().__init__(message, code=code, field=field)
        self.errcode = errcode
        self.errmsg = errmsg


class WecomRetryable(WecomRejected):
    status = 503
    code = WECOM_UNAVAILABLE
    retryable = True


def classify(path: str, answer: dict) -> WecomRejected | None:
    """The error for a decoded answer, or None when errcode is 0 (pure; unit-tested)."""
    errcode = answer.get("errcode", 0)
    if not isinstance(errcode, int):
        return WecomRetryable(f"企业微信 {path}: malformed answer", errmsg=str(errcode)[:100])
    if errcode == 0:
        return None
    errmsg = str(answer.get("errmsg", ""))[:300]
    message = f"企业微信 {path} failed: errcode {errcode}: {errmsg}"
    if errcode in RETRYABLE_ERRCODES:
        return WecomRetryable(message, errcode=errcode, errmsg=errmsg)
    return WecomRejected(message, errcode=errcode, errmsg=errmsg)


# ---- transport ----------------------------------------------------------------------------------

def _http(method: str, path: str, params: dict, body: Any) -> dict:
    cfg = get_settings()
    url = f"{cfg.wecom_api_base}{path}?{urllib.parse.urlencode(params)}"
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json; charset=utf-8",
                                              "User-Agent": "yutang/1"})
    try:
        with urllib.request.urlopen(request, timeout=cfg.wecom_timeout_seconds) as resp:
            raw = resp.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise WecomRetryable(f"企业微信 {path}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise WecomRetryable(f"企业微信 {path} unreachable: {type(exc).__name__}") from None
    try:
        answer = json.loads(raw[:MAX_RESPONSE_BYTES])
    except ValueError:
        raise WecomRetryable(f"企业微信 {path}: the answer is not JSON") from None
    if not isinstance(answer, dict):
        raise WecomRetryable(f"企业微信 {path}: the answer is not an object")
    return answer


# ---- access tokens ------------------------------------------------------------------------------

def _fetch_token(corp_id: str, secret: str) -> tuple[str, int]:
    answer = _http("GET", "/cgi-bin/gettoken", {"corpid": corp_id, "corpsecret": secret}, None)
    error = classify("gettoken", answer)
    if error is not None:
        if not error.retryable:
            raise WecomRejected(f"企业微信 refused the corp id / secret: errcode {error.errcode}: "
                                f"{error.errmsg}", errcode=error.errcode, errmsg=error.errmsg,
                                code=WECOM_CREDENTIALS_REJECTED)
        raise error
    token, expires_in = answer.get("access_token"), answer.get("expires_in", 7200)
    if not isinstance(token, str) or not token or not isinstance(expires_in, int):
        raise WecomRetryable("企业微信 gettoken: malformed answer")
    return token, expires_in


def check_credentials(corp_id: str, secret: str) -> None:
    """Raise WecomRejected (``wecom-credentials-rejected``) unless ``gettoken`` accepts them."""
    _fetch_token(corp_id, secret)


def access_token(config: Config) -> str:
    from chalicelib import vault
    from chalicelib.wecom.models import WecomToken

    tenant_id = config.tenant_id
    now = time.time()
    hit = _tokens.get(tenant_id)
    if hit and hit[1] > now and hit[2] == config.fingerprint:
        return hit[0]
    try:
        stored = WecomToken.get(tenant_id, consistent_read=True)
        if stored.fingerprint == config.fingerprint and float(stored.expires_at) > now:
            token = vault.unseal(tenant_id, "wecom.access_token", stored.token_sealed)
            _tokens[tenant_id] = (token, float(stored.expires_at), config.fingerprint)
            return token
    except DoesNotExist:
        pass
    with _lock:  # one gettoken per container at a time; 企业微信 returns the same token meanwhile
        try:
            token, expires_in = _fetch_token(config.corp_id, config.secret)
        except WecomRejected as exc:
            _problem(tenant_id, "token", exc)
            raise
        expires_at = now + max(60, expires_in - TOKEN_MARGIN_SECONDS)
        WecomToken(tenant_id=tenant_id, fingerprint=config.fingerprint, expires_at=int(expires_at),
                   token_sealed=vault.seal(tenant_id, "wecom.access_token", token)).save()
        _tokens[tenant_id] = (token, expires_at, config.fingerprint)
    return token


def invalidate_token(tenant_id: str, token: str) -> None:
    """Forget a token 企业微信 refused, in memory and in the table (unless already replaced)."""
    from chalicelib import vault
    from chalicelib.wecom.models import WecomToken

    if _tokens.get(tenant_id, ("",))[0] == token:
        _tokens.pop(tenant_id, None)
    try:
        stored = WecomToken.get(tenant_id, consistent_read=True)
    except DoesNotExist:
        return
    try:
        if vault.unseal(tenant_id, "wecom.access_token", stored.token_sealed) == token:
            stored.delete(condition=WecomToken.token_sealed == stored.token_sealed)
    except (vault.SealError, DeleteError) as exc:
        if isinstance(exc, DeleteError) and not condition_failed(exc):
            raise


def _problem(tenant_id: str, kind: str, exc: Exception) -> None:
    """Kept for the console's alerts (GET /v1/alerts); never raises."""
    from chalicelib.analytics import problems

    problems.record(tenant_id, kind, getattr(exc, "message", None) or str(exc))


def forget_tokens(tenant_id: str | None = None) -> None:
    if tenant_id is None:
        _tokens.clear()
    else:
        _tokens.pop(tenant_id, None)


# ---- calls --------------------------------------------------------------------------------------

def call(config: Config, method: str, path: str, json_body: dict | None = None,
         params: dict | None = None) -> dict:
    """Call a 企业微信 API path (e.g. ``/cgi-bin/externalcontact/add_contact_way``) for a tenant."""
    tenant_id = config.tenant_id
    for attempt in (1, 2):
        token = access_token(config)
        answer = _http(method, path, {**(params or {}), "access_token": token}, json_body)
        error = classify(path, answer)
        if error is None:
            return answer
        if error.errcode in TOKEN_ERRCODES and attempt == 1:
            log.info("企业微信 token refused (errcode %s) for tenant %s; refreshing", error.errcode,
                     tenant_id)
            invalidate_token(tenant_id, token)
            continue
        log.warning("企业微信 %s failed for tenant %s: errcode %s", path, tenant_id, error.errcode)
        _problem(tenant_id, "token" if error.errcode in TOKEN_ERRCODES else "api", error)
        raise error
    raise AssertionError("unreachable")


# ---- typed helpers ------------------------------------------------------------------------------

def add_contact_way(config: Config, *, user_ids: list[str], state: str, skip_verify: bool = True,
                    remark: str | None = None) -> dict:
    """「联系我」 as a QR code (scene 2); type single for one staff member, multi for several.
    Returns ``{config_id, qr_code}``."""
    body = {"type": 1 if len(user_ids) == 1 else 2, "scene": 2, "skip_verify": skip_verify,
            "state": state, "user": user_ids}
    if remark:
        body["remark"] = remark[:30]
    answer = call(config, "POST", "/cgi-bin/externalcontact/add_contact_way", body)
    return {"config_id": answer["config_id"], "qr_code": answer.get("qr_code")}


def update_contact_way(config: Config, config_id: str, *, user_ids: list[str], state: str,
                       skip_verify: bool = True) -> None:
    call(config, "POST", "/cgi-bin/externalcontact/update_contact_way",
         {"config_id": config_id, "skip_verify": skip_verify, "state": state, "user": user_ids})


def del_contact_way(config: Config, config_id: str) -> None:
    call(config, "POST", "/cgi-bin/externalcontact/del_contact_way", {"config_id": config_id})


def _join_way_body(chat_ids: list[str], state: str, auto_create_room: bool,
                   room_base_name: str | None, room_base_id: int | None) -> dict:
    body: dict[str, Any] = {"scene": 2, "chat_id_list": chat_ids, "state": state,
                            "auto_create_room": 1 if auto_create_room else 0}
    if auto_create_room:
        if room_base_name:
            body["room_base_name"] = room_base_name
        if room_base_id is not None:
            body["room_base_id"] = room_base_id
    return body


def add_join_way(config: Config, *, chat_ids: list[str], state: str, auto_create_room: bool = False,
                 room_base_name: str | None = None, room_base_id: int | None = None) -> str:
    """A 「加入群聊」 QR (scene 2) over ≤ 5 customer groups; returns the config_id."""
    answer = call(config, "POST", "/cgi-bin/externalcontact/groupchat/add_join_way",
                  _join_way_body(chat_ids, state, auto_create_room, room_base_name, room_base_id))
    return answer["config_id"]


def get_join_way(config: Config, config_id: str) -> dict:
    answer = call(config, "POST", "/cgi-bin/externalcontact/groupchat/get_join_way",
                  {"config_id": config_id})
    return answer.get("join_way") or {}


def update_join_way(config: Config, config_id: str, *, chat_ids: list[str], state: str,
                    auto_create_room: bool = False, room_base_name: str | None = None,
                    room_base_id: int | None = None) -> None:
    body = _join_way_body(chat_ids, state, auto_create_room, room_base_name, room_base_id)
    call(config, "POST", "/cgi-bin/externalcontact/groupchat/update_join_way",
         {"config_id": config_id, **body})


def del_join_way(config: Config, config_id: str) -> None:
    call(config, "POST", "/cgi-bin/externalcontact/groupchat/del_join_way",
         {"config_id": config_id})


def send_welcome_msg(config: Config, welcome_code: str, text: str | None,
                     attachments: list[dict] | None = None) -> None:
    body: dict[str, Any] = {"welcome_code": welcome_code}
    if text:
        body["text"] = {"content": text}
    if attachments:
        body["attachments"] = attachments
    call(config, "POST", "/cgi-bin/externalcontact/send_welcome_msg", body)


def get_group_chat(config: Config, chat_id: str) -> dict:
    """``group_chat`` of ``groupchat/get``: owner, member_list [{userid, type, state?...}], ..."""
    answer = call(config, "POST", "/cgi-bin/externalcontact/groupchat/get",
                  {"chat_id": chat_id, "need_name": 0})
    return answer.get("group_chat") or {}


def get_external_contact(config: Config, external_userid: str) -> dict:
    """``external_contact`` of ``externalcontact/get`` (GET): name, type, and ``unionid`` when the
    enterprise has bound a WeChat Open Platform account (else absent)."""
    answer = call(config, "GET", "/cgi-bin/externalcontact/get",
                  params={"external_userid": external_userid})
    return answer.get("external_contact") or {}


def add_msg_template(config: Config, *, external_userids: list[str], text: str | None = None,
                     attachments: list[dict] | None = None, sender: str | None = None,
                     chat_type: str = "single") -> dict:
    """Customer mass message (≤ 10,000 external_userids a call). Returns ``{msgid, fail_list}``."""
    if len(external_userids) > 10_000:
        raise ValueError("add_msg_template takes at most 10,000 external_userids a call")
    body: dict[str, Any] = {"chat_type": chat_type, "external_userid": external_userids}
    if sender:
        body["sender"] = sender
    if text:
        body["text"] = {"content": text}
    if attachments:
        body["attachments"] = attachments
    answer = call(config, "POST", "/cgi-bin/externalcontact/add_msg_template", body)
    return {"msgid": answer.get("msgid"), "fail_list": answer.get("fail_list") or []}
