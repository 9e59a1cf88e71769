"""Entry domains and mini-program codes on the embedded stack (moto over HTTP): AWS calls per
entry redirect (first in a second, then cached) against the scan it leads to, measured in the same
run; and the calls of a cached 小程序码 (WeChat asked once)."""
from __future__ import annotations

import json

from bench.common import counting, row


def entry_rows() -> list[dict]:
    from chalice.test import Client

    import app as app_module
    from chalicelib.auth import service as auth
    from chalicelib.entry import service as entry

    tenant = auth.create_tenant("bench-entry")
    h = {"Authorization": f"Bearer {tenant['api_key']}", "Content-Type": "application/json"}
    phone = {"Accept": "application/json", "User-Agent": "MicroMessenger/8.0.47"}
    with Client(app_module.app) as client:
        code = json.loads(client.http.post("/v1/livecodes", headers=h, body=json.dumps({
            "name": "bench", "channel": "bench", "targets": [
                {"kind": "url", "name": "u", "url": "https://example.com/"}]})).body)
        client.http.post("/v1/entry-domains", headers=h, body='{"domain": "go.example.cn"}')
        client.http.get(f"/e/{code['slug']}")
        client.http.get(f"/s/{code['slug']}", headers=phone)  # warm clients and imports
        entry.clear_cache()
        with counting() as cold:
            client.http.get(f"/e/{code['slug']}")
        with counting() as warm:
            for _ in range(10):
                client.http.get(f"/e/{code['slug']}")
        with counting() as scan:
            client.http.get(f"/s/{code['slug']}", headers=phone)
    return [
        row("AWS calls per entry redirect, first in its second", cold.total, "calls", "<= 1",
            cold.total <= 1),
        row("AWS calls per entry redirect, cached (10 entries)", warm.total / 10, "calls", "0",
            warm.total == 0),
        row("entry redirect calls vs the new-visitor scan after it", cold.total / max(scan.total, 1),
            "x"),
    ]


def wxacode_rows() -> list[dict]:
    from chalicelib.auth import service as auth
    from chalicelib.livecodes import service as livecodes
    from chalicelib.mp import codes
    from devstack.fake_wechat import as_default

    with as_default() as fake:
        tenant = auth.create_tenant("bench-wxa")["tenant_id"]
        code = livecodes.create(tenant, {"name": "b", "channel": "b", "targets": [
            {"kind": "url", "name": "u", "url": "https://example.com/"}]})
        scene = codes.livecode_scene(tenant, code["id"])
        with counting() as first:
            codes.wxacode(tenant, scene, {})
        with counting() as again:
            codes.wxacode(tenant, scene, {})
        asked = fake.wxa.calls["/wxa/getwxacodeunlimit"]
    return [row("AWS calls for a new 小程序码 (S3 miss + put, mp app read)", first.total, "calls"),
            row("AWS calls for a cached 小程序码", again.total, "calls", "1 (S3 GET)",
                again.total == 1),
            row("WeChat getwxacodeunlimit calls for two requests", asked, "calls", "1", asked == 1)]


def run(size: str) -> list[dict]:
    from tests.support import stack

    with stack.moto_over_http():
        return entry_rows() + wxacode_rows()
