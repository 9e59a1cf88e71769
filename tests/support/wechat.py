"""A fake WeChat (code2session) per test, set as the deployment's default mini-program.

Import the fixture into a test module: ``from tests.support.wechat import fake_wechat  # noqa: F401``
Settings are re-read here and cached at once: ``chalice.test.Client`` puts the stage's environment
variables (another bucket) into ``os.environ`` during each request.
"""
from __future__ import annotations

import os

import pytest

from devstack.fake_wechat import DEFAULT_APPID, DEFAULT_SECRET, FakeWeChat

ENV = ("YUTANG_WECHAT_API_BASE", "YUTANG_WECHAT_APPID", "YUTANG_WECHAT_SECRET")


@pytest.fixture
def fake_wechat(aws_stack):
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
