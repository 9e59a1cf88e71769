"""Settings.from_env: the environment's names and defaults, read by theme."""
from chalicelib.settings import Settings


def test_an_empty_environment_gives_the_documented_defaults():
    assert Settings.from_env({}) == Settings()


def test_every_field_is_read_from_its_variable():
    numbers = {"YUTANG_API_KEY_CACHE_SECONDS", "YUTANG_WEBHOOK_TIMEOUT", "YUTANG_WECHAT_TIMEOUT",
               "YUTANG_MP_TOKEN_TTL_SECONDS", "YUTANG_WECOM_TIMEOUT", "YUTANG_RATE_IP_PER_MINUTE",
               "YUTANG_EVENT_RETRY_DELAY", "YUTANG_RATE_KEY_PER_SECOND", "YUTANG_SEND_LEASE_SECONDS",
               "YUTANG_RUN_LEASE_SECONDS", "YUTANG_WEBHOOK_RETRY_BASE", "YUTANG_INVITES_PER_IP_PER_DAY",
               "YUTANG_DATA_STEP_ROWS", "YUTANG_DATA_STEP_SECONDS", "YUTANG_EXPORT_PART_BYTES",
               "YUTANG_HOOK_RETRY_BASE", "YUTANG_ACCESS_TOKEN_SECONDS", "YUTANG_SESSION_DAYS",
               "YUTANG_SESSION_CACHE_SECONDS", "YUTANG_LIVECODE_CACHE_SECONDS", "YUTANG_LOGIN_IP_PER_MINUTE", "YUTANG_LOCKOUT_FAILURES",
               "YUTANG_LOCKOUT_MINUTES", "YUTANG_INVITE_DAYS"}
    texts = {"YUTANG_STAGE", "AWS_REGION", "AWS_ENDPOINT_URL", "YUTANG_TABLE_PREFIX", "YUTANG_BUCKET",
             "YUTANG_EVENTS_QUEUE", "YUTANG_EVENTS_QUEUE_URL", "YUTANG_PUBLIC_URL", "YUTANG_SECRET",
             "YUTANG_ADMIN_KEY", "YUTANG_SECRET_ARN", "YUTANG_ADMIN_KEY_ARN", "YUTANG_DATA_KEY_ARN",
             "YUTANG_TIMEZONE", "YUTANG_WECHAT_API_BASE", "YUTANG_WECHAT_APPID", "YUTANG_WECHAT_SECRET",
             "YUTANG_DATA_KEY", "YUTANG_WECOM_API_BASE", "YUTANG_CORS_ORIGINS", "YUTANG_LOG_LEVEL",
             "YUTANG_SENDS_QUEUE", "YUTANG_DATA_QUEUE", "YUTANG_HOOKS_QUEUE", "YUTANG_SCRYPT",
             "YUTANG_CONSOLE_URL", "YUTANG_CLIENT_IP_HEADER"}
    env = {**dict.fromkeys(numbers, "4242"), **dict.fromkeys(texts, "https://set.example"),
           "YUTANG_ALLOW_PRIVATE_FETCH": "yes", "YUTANG_TRACING": "on", "YUTANG_METRICS": "0",
           "YUTANG_X_PLAN": "gold"}
    got, default = Settings.from_env(env), Settings()
    unchanged = [name for name in Settings._fields if getattr(got, name) == getattr(default, name)]
    assert unchanged == []
    assert got.api_key_cache_seconds == 4242 and got.session_cache_seconds == 4242.0
    assert got.cors_origins == ("https://set.example",) and got.extra == {"YUTANG_X_PLAN": "gold"}


def test_derived_values():
    got = Settings.from_env({"YUTANG_PUBLIC_URL": "https://api.example/", "AWS_DEFAULT_REGION": "cn-north-1",
                             "YUTANG_CORS_ORIGINS": " https://a.example/ ,, https://b.example"})
    assert got.public_url == "https://api.example" and got.console_url == "https://api.example/console/"
    assert got.region == "cn-north-1" and got.cors_origins == ("https://a.example", "https://b.example")
