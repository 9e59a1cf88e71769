"""Point the code at a fresh storage backend: in-process moto, or a moto server over HTTP."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

BASE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
    "YUTANG_TABLE_PREFIX": "test-", "YUTANG_BUCKET": "yutang-test",
    "YUTANG_SECRET": "test-secret", "YUTANG_ADMIN_KEY": "test-admin-key",
    "YUTANG_PUBLIC_URL": "http://testserver", "YUTANG_ALLOW_PRIVATE_FETCH": "1",
    "YUTANG_API_KEY_CACHE_SECONDS": "60", "YUTANG_EVENT_RETRY_DELAY": "0",
    "YUTANG_RATE_IP_PER_MINUTE": "100000", "YUTANG_RATE_KEY_PER_SECOND": "100000",
    "YUTANG_LOGIN_IP_PER_MINUTE": "100000",
    # Cheaper password hashes in tests (the production cost is checked in test_passwords.py).
    "YUTANG_SCRYPT": "1024,8,1",
}


def reset_runtime() -> None:
    from chalicelib import aws, db
    from chalicelib.auth import service as auth
    from chalicelib.livecodes import cache, counters
    from chalicelib.settings import reset_settings

    reset_settings()
    aws.reset()
    db.unbind_all()
    auth.clear_caches()
    cache.clear()
    counters.clear()


@contextmanager
def environment(extra: dict | None = None) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update(BASE_ENV)
    os.environ.update(extra or {})
    reset_runtime()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_runtime()


@contextmanager
def moto_in_process(extra: dict | None = None) -> Iterator[None]:
    from moto import mock_aws

    from devstack import moto_transact, stack

    moto_transact.install()  # as the local stack runs: a transaction copies what it touches
    with environment(extra), mock_aws():
        stack.provision()
        yield


@contextmanager
def moto_over_http(extra: dict | None = None, data_dir=None) -> Iterator[str]:
    """With ``data_dir``, the server journals every write there, as `make dev` does."""
    from devstack import stack
    from devstack.moto_server import MotoServer

    server = MotoServer(data_dir=data_dir)
    url = server.start()
    try:
        with environment({"AWS_ENDPOINT_URL": url, **(extra or {})}):
            stack.provision()
            yield url
    finally:
        server.stop()
