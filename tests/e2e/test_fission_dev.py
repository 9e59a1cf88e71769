"""Fission posters on the real `make dev` stack: a poster template changed over HTTP reaches the
posters of its tasks' participants through the events queue (posters publish ``template_changed``;
the stack's drain runs the fission consumer, as SQS would on AWS)."""
import io
import json
import time

import pytest
from PIL import Image

from tests.support.fission import LAYOUT, background_b64

pytestmark = pytest.mark.e2e


def _created(dev_stack, path, payload):
    status, _, raw = dev_stack.request("POST", path, payload)
    assert status == 201, raw
    return json.loads(raw)


def _poster_size(dev_stack, path):
    status, headers, raw = dev_stack.request("GET", path, key=None, headers={"Accept": "image/jpeg"})
    assert status == 200 and headers["Content-Type"] == "image/jpeg", raw[:200]
    return Image.open(io.BytesIO(raw)).size


def test_a_changed_template_reaches_the_participants_posters(dev_stack):
    template = _created(dev_stack, "/v1/poster-templates", {
        "name": "e2e", "background": background_b64(), "width": 1080, "height": 1920, "layout": LAYOUT})
    code = _created(dev_stack, "/v1/livecodes", {
        "name": "e2e", "channel": "poster", "strategy": "fill",
        "targets": [{"kind": "url", "name": "官网", "url": "https://example.com/"}]})
    task = _created(dev_stack, "/v1/fission-tasks", {
        "name": "e2e", "livecode_id": code["id"], "template_id": template["id"], "goal": 3})
    p = _created(dev_stack, f"/v1/fission-tasks/{task['id']}/participants", {"nickname": "小明"})
    path = "/" + p["poster_url"].split("/", 3)[3]
    assert _poster_size(dev_stack, path) == (1080, 1920)

    status, _, raw = dev_stack.request("PATCH", f"/v1/poster-templates/{template['id']}", {
        "width": 720, "height": 1280, "layout": {"qr": {"x": 160, "y": 700, "size": 400}}})
    assert status == 200, raw
    deadline = time.monotonic() + 30
    while _poster_size(dev_stack, path) != (720, 1280):
        assert time.monotonic() < deadline, "the template change never reached the poster"
        time.sleep(0.5)
