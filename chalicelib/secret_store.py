"""The deployment's own secrets (``YUTANG_SECRET``, ``YUTANG_ADMIN_KEY``, ``YUTANG_DATA_KEY``),
resolved where they are needed.

Deployed, a function's environment holds only each secret's ARN (``YUTANG_SECRET_ARN``...): the
value is read from Secrets Manager on first use and cached for :data:`TTL` seconds per container
(one ``GetSecretValue`` per secret per container and TTL; a rotation reaches every container within
the TTL), so it is never readable through ``GetFunctionConfiguration``. Locally (``make dev``,
tests) the plain variables are used as before. The Secrets Manager client is the shared one of
:mod:`chalicelib.aws`.
"""
from __future__ import annotations

import threading
import time

from chalicelib.settings import get_settings

TTL = 300.0
_cache: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()


def resolve(arn: str) -> str:
    hit = _cache.get(arn)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    with _lock:
        hit = _cache.get(arn)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        from chalicelib import aws

        value = aws.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
        _cache[arn] = (time.monotonic() + TTL, value)
        return value


def app_secret() -> str:
    """Signs visitor cookies, referral links, cursors and mini-program tokens."""
    cfg = get_settings()
    return resolve(cfg.secret_arn) if cfg.secret_arn else cfg.secret


def admin_key() -> str | None:
    cfg = get_settings()
    return resolve(cfg.admin_key_arn) if cfg.admin_key_arn else cfg.admin_key


def data_key() -> str | None:
    """Seals stored secrets (chalicelib.vault); None: derived from the app secret."""
    cfg = get_settings()
    return resolve(cfg.data_key_arn) if cfg.data_key_arn else cfg.data_key


def forget() -> None:
    _cache.clear()
