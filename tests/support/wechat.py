"""A fake WeChat (code2session, mini-program codes and links) per test, set as the deployment's
default mini-program (``devstack.fake_wechat.as_default``).

Import the fixture into a test module: ``from tests.support.wechat import fake_wechat  # noqa: F401``
"""
from __future__ import annotations

import pytest

from devstack.fake_wechat import as_default


@pytest.fixture
def fake_wechat(aws_stack):
    with as_default() as fake:
        yield fake
