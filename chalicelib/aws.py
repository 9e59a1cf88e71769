"""AWS clients, created once per container and injectable.

Endpoints come from ``AWS_ENDPOINT_URL`` through :class:`Settings`; the same code talks to AWS or to
the embedded local stack. Event hooks (``before-send``...) registered here reach every client,
including the ones PynamoDB creates, which is how the benchmarks count AWS calls.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from chalicelib.settings import get_settings

_lock = threading.Lock()
_clients: dict[str, Any] = {}
_hooks: list[tuple[str, Callable]] = []
_queue_urls: dict[str, str] = {}


def client(service: str) -> Any:
    cached = _clients.get(service)
    if cached is not None:
        return cached
    with _lock:
        if service not in _clients:
            _clients[service] = _attach_hooks(_create(service))
        return _clients[service]


def _create(service: str) -> Any:
    # botocore directly (boto3 only wraps it): one library less to import on a cold start.
    from botocore.config import Config
    from botocore.session import get_session

    cfg = get_settings()
    extras: dict[str, dict[str, Any]] = {
        "s3": {"signature_version": "s3v4", "s3": {"addressing_style": "path"}},
        # As PynamoDB does: DynamoDB validates every request itself, and checking 100-key
        # batches against the model client-side costs more CPU than the call's own work.
        "dynamodb": {"parameter_validation": False}}
    extra = extras.get(service, {})
    return get_session().create_client(
        service,
        region_name=cfg.region,
        endpoint_url=cfg.endpoint_url,
        config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3,
                      read_timeout=10, **extra),
    )


def set_client(service: str, value: Any) -> None:
    """Inject a client (tests)."""
    _clients[service] = _attach_hooks(value)


def _attach_hooks(botocore_client: Any) -> Any:
    for event, handler in _hooks:
        botocore_client.meta.events.register(event, handler)
    return botocore_client


def register_hook(event: str, handler: Callable) -> None:
    """Register a botocore event hook on every client, present and future (boto3 and PynamoDB)."""
    from chalicelib import db

    _hooks.append((event, handler))
    for existing in list(_clients.values()):
        existing.meta.events.register(event, handler)
    db.register_hook(event, handler)


def unregister_hook(event: str, handler: Callable) -> None:
    from chalicelib import db

    if (event, handler) in _hooks:
        _hooks.remove((event, handler))
    for existing in list(_clients.values()):
        existing.meta.events.unregister(event, handler)
    db.unregister_hook(event, handler)


def queue_url(name: str) -> str:
    """The URL of a queue by name: from settings when deployed, else looked up once per container."""
    cfg = get_settings()
    if name == cfg.events_queue and cfg.events_queue_url:
        return cfg.events_queue_url
    if name not in _queue_urls:
        _queue_urls[name] = client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
    return _queue_urls[name]


def reset() -> None:
    """Drop cached clients (tests and the local stack switch endpoints)."""
    with _lock:
        _clients.clear()
        _queue_urls.clear()
