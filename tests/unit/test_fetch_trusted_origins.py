"""Outbound fetches refuse non-public addresses unless the deployment opts in; the configured
WeChat / 企业微信 API origins (the local stack's fakes on loopback) stay reachable."""
import pytest

from chalicelib import fetch
from chalicelib.settings import reset_settings


@pytest.fixture
def env(monkeypatch):
    def apply(**values):
        for key in ("YUTANG_ALLOW_PRIVATE_FETCH", "YUTANG_WECOM_API_BASE", "YUTANG_WECHAT_API_BASE"):
            monkeypatch.delenv(key, raising=False)
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        reset_settings()

    yield apply
    monkeypatch.undo()
    reset_settings()


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/a.png", "http://169.254.169.254/latest/meta-data",
                                 "http://localhost/x", "http://10.0.0.5/x", "http://[::1]/x"])
def test_private_addresses_are_refused_by_default(env, url):
    env()
    with pytest.raises(fetch.FetchRefused):
        fetch.check_public(url)


def test_opting_in_allows_private_addresses(env):
    env(YUTANG_ALLOW_PRIVATE_FETCH="1")
    fetch.check_public("http://169.254.169.254/latest/meta-data")


def test_only_the_configured_api_origins_are_trusted(env):
    env(YUTANG_WECOM_API_BASE="http://127.0.0.1:8010", YUTANG_WECHAT_API_BASE="http://127.0.0.1:8011/")
    fetch.check_public("http://127.0.0.1:8010/qr/abc.png")
    fetch.check_public("http://127.0.0.1:8011/sns/jscode2session?x=1")
    for other in ("http://127.0.0.1:8012/qr/abc.png", "https://127.0.0.1:8010/qr/abc.png",
                  "http://169.254.169.254/"):
        with pytest.raises(fetch.FetchRefused):
            fetch.check_public(other)
