"""Runtime configuration: the only module that reads ``os.environ``."""
from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, NamedTuple


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


class Settings(NamedTuple):  # immutable; a NamedTuple is cheaper to define than a dataclass
    stage: str = "dev"
    region: str = "us-east-1"
    endpoint_url: str | None = None
    table_prefix: str = "yutang-"
    bucket: str = "yutang-media"
    events_queue: str = "yutang-events"
    events_queue_url: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    secret: str = "dev-only-secret-change-me"
    admin_key: str | None = None
    secret_arn: str | None = None  # deployed: the secrets' ARNs (chalicelib.secret_store reads them)
    admin_key_arn: str | None = None
    data_key_arn: str | None = None
    default_timezone: str = "Asia/Shanghai"
    allow_private_fetch: bool = False
    api_key_cache_seconds: int = 60
    webhook_timeout_seconds: float = 5.0
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_appid: str | None = None
    wechat_secret: str | None = None
    wechat_timeout_seconds: float = 5.0
    mp_token_ttl_seconds: int = 7 * 24 * 3600
    data_key: str | None = None  # YUTANG_DATA_KEY: seals stored integration secrets (else derived)
    wecom_api_base: str = "https://qyapi.weixin.qq.com"
    wecom_timeout_seconds: float = 5.0
    tracing: bool = False
    metrics: bool = True
    cors_origins: tuple[str, ...] = ()
    log_level: str = "INFO"
    rate_ip_per_minute: int = 300
    event_retry_delay_seconds: float = 10.0
    rate_key_per_second: int = 200
    sends_queue: str = "yutang-sends"  # campaign fan-out (the app's @app.on_sqs_message queue)
    send_lease_seconds: int = 120  # a claimed chunk older than this lost its sender
    run_lease_seconds: int = 900  # a campaign run idle this long is re-driven by the tick
    webhook_retry_base_seconds: float = 30.0  # campaign webhook retries: 30 s, 2 min, 8 min later
    invites_per_ip_per_day: int = 20  # fission: invites counted per task from one IP per UTC day
    data_queue: str = "yutang-data"  # export and import jobs (the app's @app.on_sqs_message queue)
    hooks_queue: str = "yutang-hooks"  # event webhook deliveries
    data_step_rows: int = 0  # rows per worker step before a continuation (0: time decides alone)
    data_step_seconds: float = 240.0  # a step hands over after this long (the function allows 300)
    export_part_bytes: int = 8 * 1024 * 1024  # S3 multipart part size (S3's floor is 5 MiB)
    hook_retry_base_seconds: int = 30  # event webhook retries: 30 s, 60 s, 120 s, ... (≤ 900)
    access_token_seconds: int = 15 * 60  # a member's access token
    session_days: int = 30  # a login can be refreshed for this long
    session_cache_seconds: float = 5.0  # a revoked session stops within this, per container
    livecode_cache_seconds: float = 1.0  # a live code's routing data, per container (edits show within)
    login_ip_per_minute: int = 10  # logins, refreshes and invite acceptances per client IP
    lockout_failures: int = 5  # consecutive wrong passwords that lock a member...
    lockout_minutes: int = 15  # ...for this long
    invite_days: int = 7
    scrypt_cost: str = ""  # "N,r,p" for new password hashes; empty: passwords.Cost() defaults
    console_url: str = "http://127.0.0.1:8000/console/"
    client_ip_header: str = ""  # a header the CDN in front sets to the viewer's address
    extra: Mapping[str, str] = {}  # never mutated

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        return cls(**_deployment(env), **_integrations(env), **_queues(env), **_limits(env),
                   extra={k: v for k, v in env.items() if k.startswith("YUTANG_X_")})

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")


# ---- from_env, by theme: each returns the Settings fields it reads --------------------------------

def _deployment(env: Mapping[str, str]) -> dict[str, Any]:
    """Where it runs, who it is, what it trusts."""
    public_url = env.get("YUTANG_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
    return {
        "stage": env.get("YUTANG_STAGE", "dev"),
        "region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        "endpoint_url": env.get("AWS_ENDPOINT_URL") or None,
        "table_prefix": env.get("YUTANG_TABLE_PREFIX", "yutang-"),
        "bucket": env.get("YUTANG_BUCKET", "yutang-media"),
        "public_url": public_url,
        "console_url": env.get("YUTANG_CONSOLE_URL") or public_url + "/console/",
        "secret": env.get("YUTANG_SECRET", "dev-only-secret-change-me"),
        "admin_key": env.get("YUTANG_ADMIN_KEY") or None,
        "secret_arn": env.get("YUTANG_SECRET_ARN") or None,
        "admin_key_arn": env.get("YUTANG_ADMIN_KEY_ARN") or None,
        "data_key_arn": env.get("YUTANG_DATA_KEY_ARN") or None,
        "data_key": env.get("YUTANG_DATA_KEY") or None,
        "default_timezone": env.get("YUTANG_TIMEZONE", "Asia/Shanghai"),
        "allow_private_fetch": _flag(env.get("YUTANG_ALLOW_PRIVATE_FETCH")),
        "cors_origins": tuple(o.strip().rstrip("/")
                              for o in env.get("YUTANG_CORS_ORIGINS", "").split(",") if o.strip()),
        "client_ip_header": env.get("YUTANG_CLIENT_IP_HEADER", "").strip(),
        "tracing": _flag(env.get("YUTANG_TRACING")),
        "metrics": env.get("YUTANG_METRICS", "1") != "0",
        "log_level": env.get("YUTANG_LOG_LEVEL", "INFO").upper(),
    }


def _integrations(env: Mapping[str, str]) -> dict[str, Any]:
    """WeChat, 企业微信 and outgoing webhooks."""
    return {
        "webhook_timeout_seconds": float(env.get("YUTANG_WEBHOOK_TIMEOUT", "5")),
        "wechat_api_base": env.get("YUTANG_WECHAT_API_BASE", "https://api.weixin.qq.com").rstrip("/"),
        "wechat_appid": env.get("YUTANG_WECHAT_APPID") or None,
        "wechat_secret": env.get("YUTANG_WECHAT_SECRET") or None,
        "wechat_timeout_seconds": float(env.get("YUTANG_WECHAT_TIMEOUT", "5")),
        "mp_token_ttl_seconds": int(env.get("YUTANG_MP_TOKEN_TTL_SECONDS", str(7 * 24 * 3600))),
        "wecom_api_base": env.get("YUTANG_WECOM_API_BASE", "https://qyapi.weixin.qq.com").rstrip("/"),
        "wecom_timeout_seconds": float(env.get("YUTANG_WECOM_TIMEOUT", "5")),
    }


def _queues(env: Mapping[str, str]) -> dict[str, Any]:
    """Queues, their retries and leases, and the background jobs' step sizes."""
    return {
        "events_queue": env.get("YUTANG_EVENTS_QUEUE", "yutang-events"),
        "events_queue_url": env.get("YUTANG_EVENTS_QUEUE_URL") or None,
        "sends_queue": env.get("YUTANG_SENDS_QUEUE", "yutang-sends"),
        "data_queue": env.get("YUTANG_DATA_QUEUE", "yutang-data"),
        "hooks_queue": env.get("YUTANG_HOOKS_QUEUE", "yutang-hooks"),
        "event_retry_delay_seconds": float(env.get("YUTANG_EVENT_RETRY_DELAY", "10")),
        "send_lease_seconds": int(env.get("YUTANG_SEND_LEASE_SECONDS", "120")),
        "run_lease_seconds": int(env.get("YUTANG_RUN_LEASE_SECONDS", "900")),
        "webhook_retry_base_seconds": float(env.get("YUTANG_WEBHOOK_RETRY_BASE", "30")),
        "hook_retry_base_seconds": int(env.get("YUTANG_HOOK_RETRY_BASE", "30")),
        "data_step_rows": int(env.get("YUTANG_DATA_STEP_ROWS", "0")),
        "data_step_seconds": float(env.get("YUTANG_DATA_STEP_SECONDS", "240")),
        "export_part_bytes": int(env.get("YUTANG_EXPORT_PART_BYTES", str(8 * 1024 * 1024))),
    }


def _limits(env: Mapping[str, str]) -> dict[str, Any]:
    """Rates, ceilings, caches and the team's sessions."""
    return {
        "api_key_cache_seconds": int(env.get("YUTANG_API_KEY_CACHE_SECONDS", "60")),
        "rate_ip_per_minute": int(env.get("YUTANG_RATE_IP_PER_MINUTE", "300")),
        "rate_key_per_second": int(env.get("YUTANG_RATE_KEY_PER_SECOND", "200")),
        "invites_per_ip_per_day": int(env.get("YUTANG_INVITES_PER_IP_PER_DAY", "20")),
        "access_token_seconds": int(env.get("YUTANG_ACCESS_TOKEN_SECONDS", "900")),
        "session_days": int(env.get("YUTANG_SESSION_DAYS", "30")),
        "session_cache_seconds": float(env.get("YUTANG_SESSION_CACHE_SECONDS", "5")),
        "livecode_cache_seconds": float(env.get("YUTANG_LIVECODE_CACHE_SECONDS", "1")),
        "login_ip_per_minute": int(env.get("YUTANG_LOGIN_IP_PER_MINUTE", "10")),
        "lockout_failures": int(env.get("YUTANG_LOCKOUT_FAILURES", "5")),
        "lockout_minutes": int(env.get("YUTANG_LOCKOUT_MINUTES", "15")),
        "invite_days": int(env.get("YUTANG_INVITE_DAYS", "7")),
        "scrypt_cost": env.get("YUTANG_SCRYPT", ""),
    }


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()


def reset_settings() -> None:
    """Forget the cached settings (tests and the local stack change the environment)."""
    get_settings.cache_clear()
