"""Capacity holds under concurrency: ≥ 20 concurrent new visitors, a capacity-5 target, exactly 5
placed — with DynamoDB behind a moto server over HTTP, and through the dev server over HTTP."""
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support import stack as test_stack
from tests.support.images import png_b64

pytestmark = pytest.mark.e2e
VISITORS = 24
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.47"


def test_concurrent_scans_against_moto_over_http():
    from chalicelib.auth import service as auth
    from chalicelib.livecodes import service

    with test_stack.moto_over_http():
        tenant = auth.create_tenant("race")["tenant_id"]
        code = service.create(tenant, {"name": "race", "channel": "c", "targets": [
            {"kind": "group", "name": "g", "capacity": 5, "image": png_b64()}],
            "fallback": {"kind": "staff", "name": "cs", "image": png_b64()}})
        with ThreadPoolExecutor(max_workers=VISITORS) as pool:
            results = list(pool.map(lambda _: service.scan(code["slug"], service.Visitor()),
                                    range(VISITORS)))
        placed = [r for r in results if r.target is not None and r.target.name == "g"]
        assert len(placed) == 5
        assert all(r.target is not None and r.target.name == "cs" for r in results if r not in placed)
        import app as app_module
        from devstack.drain import drain_all

        drain_all(app_module)  # the fallback has no capacity: the consumer counts it, per batch
        stored = service.get(tenant, code["id"])
        assert stored["targets"][0]["assigned"] == 5
        assert stored["fallback"]["assigned"] == VISITORS - 5


def test_concurrent_http_scans_through_the_dev_server(dev_stack):
    status, _, raw = dev_stack.request("POST", "/v1/livecodes", {
        "name": "race", "channel": "race", "targets": [
            {"kind": "group", "name": "g", "capacity": 5, "image": png_b64()}]})
    code = json.loads(raw)

    def visit(_):
        return dev_stack.request("GET", f"/s/{code['slug']}", key=None, headers={
            "Accept": "application/json", "User-Agent": PHONE})  # a person: bots claim nothing

    with ThreadPoolExecutor(max_workers=VISITORS) as pool:
        answers = [json.loads(r[2]) for r in pool.map(visit, range(VISITORS))]
    assert sum(1 for a in answers if a["target"] is not None) == 5
    _, _, raw = dev_stack.request("GET", f"/v1/livecodes/{code['id']}")
    assert json.loads(raw)["targets"][0]["assigned"] == 5
