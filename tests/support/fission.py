"""Helpers for poster and fission tests: a template, a live code and a task through the API."""
from __future__ import annotations

import base64
import io
import json

from tests.conftest import auth_headers

LAYOUT = {"qr": {"x": 340, "y": 1300, "size": 400},
          "avatar": {"x": 90, "y": 120, "size": 160, "shape": "circle"},
          "nickname": {"x": 280, "y": 150, "font_size": 56, "color": "#ffffff", "max_width": 700},
          "texts": [{"text": "邀请 3 位好友，免费领取《私域增长》", "x": 90, "y": 400, "font_size": 52,
                     "color": "#fff8e0", "max_width": 900, "align": "center"}]}


def background_b64(width: int = 1080, height: int = 1920) -> str:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    for y in range(0, height, 4):
        draw.rectangle((0, y, width, y + 3), fill=(200 - y * 120 // height, 70, 90 + y * 100 // height))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return base64.b64encode(out.getvalue()).decode()


def post(client, tenant, path, payload):
    return client.http.post(path, headers=auth_headers(tenant), body=json.dumps(payload))


def body(resp):
    return json.loads(resp.body)


def make_template(client, tenant, **overrides):
    payload = {"name": "双11 海报", "background": background_b64(), "width": 1080, "height": 1920,
               "layout": LAYOUT, **overrides}
    resp = post(client, tenant, "/v1/poster-templates", payload)
    assert resp.status_code == 201, resp.body
    return body(resp)


def make_livecode(client, tenant):
    resp = post(client, tenant, "/v1/livecodes", {
        "name": "福利群", "channel": "poster", "strategy": "fill",
        "targets": [{"kind": "url", "name": "官网", "url": "https://example.com/welcome"}]})
    assert resp.status_code == 201, resp.body
    return body(resp)


def make_task(client, tenant, template_id=None, livecode_id=None, **overrides):
    template_id = template_id or make_template(client, tenant)["id"]
    livecode_id = livecode_id or make_livecode(client, tenant)["id"]
    payload = {"name": "邀 3 人得书", "livecode_id": livecode_id, "template_id": template_id,
               "goal": 3, "reward": {"message": "恭喜，赠书已为你预留"}, **overrides}
    resp = post(client, tenant, "/v1/fission-tasks", payload)
    assert resp.status_code == 201, resp.body
    return body(resp)
