"""Fixtures shared by all layers.

Storage: one in-process moto per test worker with every table, bucket and queue provisioned once.
Tests isolate themselves by tenant (every key starts with the tenant, as in production); queues are
purged and per-container caches dropped before each test."""
from __future__ import annotations

import pytest

from tests.support import stack as test_stack


@pytest.fixture(scope="session")
def _moto_session():
    with test_stack.moto_in_process():
        yield


@pytest.fixture
def aws_stack(_moto_session):
    from chalicelib import aws
    from chalicelib.auth import service as auth
    from devstack import stack

    auth.clear_caches()
    sqs = aws.client("sqs")
    for name in stack.queue_names():
        for queue in (name, f"{name}-dlq"):
            url = aws.queue_url(queue)
            while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                                  VisibilityTimeout=0).get("Messages", []):
                sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
    yield


@pytest.fixture
def app_client(aws_stack):
    from chalice.test import Client

    import app as app_module

    with Client(app_module.app) as client:
        yield client


@pytest.fixture
def tenant(aws_stack):
    from chalicelib.auth import service

    return service.create_tenant("Tenant A")


@pytest.fixture
def other_tenant(aws_stack):
    from chalicelib.auth import service

    return service.create_tenant("Tenant B")


def auth_headers(tenant_info: dict) -> dict:
    return {"Authorization": f"Bearer {tenant_info['api_key']}", "Content-Type": "application/json"}
