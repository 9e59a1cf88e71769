"""AWS-shaped sample events (tests/events/*.json), loaded fresh for each use.

The files are events as Lambda receives them from SQS, EventBridge, API Gateway REST (v1 proxy)
and the HTTP API (payload 2.0). Placeholders in upper case (TENANT, SLUG) are filled by the test.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parent.parent / "events"


def load(name: str, **placeholders: str) -> dict[str, Any]:
    """The event in ``tests/events/<name>.json`` with each placeholder (``SLUG=...``) replaced."""
    text = (EVENTS / f"{name}.json").read_text()
    for key, value in placeholders.items():
        text = text.replace(key, value)
    return json.loads(text)
