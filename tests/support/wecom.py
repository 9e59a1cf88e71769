"""A fake 企业微信 server per test, and helpers to configure a tenant and send it callbacks.

Import the fixture into a test module: ``from tests.support.wecom import fake_wecom  # noqa: F401``.
"""
from __future__ import annotations

import os

import pytest

from devstack.fake_wecom import FakeWecom, signed_callback

TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
CORP_ID = "wx5823bf96d3bd56c7"
SECRET = "the-app-secret-value"


@pytest.fixture
def fake_wecom(aws_stack):
    """Settings are re-read (and cached again at once) here, outside any request: chalice's test
    Client puts the stage's environment in place while it handles a request."""
    from chalicelib.settings import get_settings, reset_settings
    from chalicelib.wecom import integration

    saved, before = os.environ.get("YUTANG_WECOM_API_BASE"), get_settings()
    with FakeWecom() as fake:
        os.environ["YUTANG_WECOM_API_BASE"] = fake.url
        reset_settings()
        integration.forget()
        assert get_settings().table_prefix == before.table_prefix
        try:
            yield fake
        finally:
            if saved is None:
                os.environ.pop("YUTANG_WECOM_API_BASE", None)
            else:
                os.environ["YUTANG_WECOM_API_BASE"] = saved
            reset_settings()
            get_settings()
            integration.forget()


def settings_body(**overrides) -> dict:
    return {"corp_id": CORP_ID, "secret": SECRET, "token": TOKEN, "encoding_aes_key": AES_KEY,
            "agent_id": 1000002, **overrides}


def configure(tenant_id: str, **overrides) -> dict:
    from chalicelib.wecom import integration

    return integration.put(tenant_id, settings_body(**overrides))


def callback(fields: dict, token: str = TOKEN, aes_key: str = AES_KEY, corp_id: str = CORP_ID):
    return signed_callback(token, aes_key, corp_id, fields)


def drain() -> int:
    """Deliver what the events queue holds to the app's SQS handler, as Lambda would."""
    import app as app_module
    from chalicelib.settings import get_settings
    from devstack.drain import drain_once

    return drain_once(get_settings().events_queue, app_module.handle_events)


def queued_types() -> list[str]:
    """The types of the messages waiting in the events queue (left in place)."""
    import json

    from chalicelib import aws
    from chalicelib.settings import get_settings

    sqs = aws.client("sqs")
    url = aws.queue_url(get_settings().events_queue)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"])["type"] for m in got.get("Messages", [])]
