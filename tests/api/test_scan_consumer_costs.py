"""The cost model's inputs for the events consumer (infra/cost_model.py ``Scan``) are what the
consumer does: ten first-visit scans of one live code through ``GET /s/{slug}``, then one SQS batch
into the app's events handler, with every AWS call counted (botocore ``before-send``) and every
item it wrote sized. If the batch aggregator, the scan log or the warning check changes its
calls, this test fails until the model is updated."""
from __future__ import annotations

import json

import app as app_module
from bench.common import CallCounter
from chalicelib.analytics.models import DailyStats
from chalicelib.portability.models import ScanRecord
from chalicelib.settings import get_settings
from devstack.drain import drain_once
from infra.cost_model import Scan
from tests.conftest import auth_headers
from tests.support.api import body

PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI")


def _item_kb(item) -> float:
    """An upper bound of DynamoDB's item size (names + values as serialised)."""
    return len(json.dumps(item.serialize(), ensure_ascii=False).encode()) / 1024


def test_the_consumer_of_ten_scans_costs_what_the_model_says(app_client, tenant):
    h = auth_headers(tenant)
    resp = app_client.http.post("/v1/livecodes", headers=h, body=json.dumps({
        "name": "cost", "channel": "poster", "strategy": "fill",
        "targets": [{"kind": "url", "name": "site", "url": "https://example.com/a"}]}))
    assert resp.status_code == 201, resp.body
    code = body(resp)
    queue = get_settings().events_queue
    drain_once(queue, app_module.handle_events, visibility_timeout=0)  # nothing else queued
    app_client.http.get(f"/s/{code['slug']}", headers={"Accept": "application/json",
                                                         "User-Agent": PHONE})
    drain_once(queue, app_module.handle_events, visibility_timeout=0)  # warm: tenant, clients
    for _ in range(10):  # ten new visitors (no cookie), one code, one day
        app_client.http.get(f"/s/{code['slug']}", headers={"Accept": "application/json",
                                                             "User-Agent": PHONE})
    with CallCounter() as calls:
        handled = drain_once(queue, app_module.handle_events, visibility_timeout=0, max_batches=1)
    assert handled == 10
    model = Scan(claim_wru=0, unlimited_wru=0.1)  # new visitors to a target without capacity
    # stats: one UpdateItem per key per batch (tenant-day, code-day, channel-day), items <= 1 KB,
    # and one ADD on the target's counter for the ten visitors placed on it
    assert calls.calls["UpdateItem"] / 10 == model.stats_wru + model.unlimited_wru
    stats = list(DailyStats.query(tenant["tenant_id"]))
    assert stats and max(_item_kb(i) for i in stats) <= 1
    # the scan log (the scans export's source): one BatchWriteItem of ten items <= 1 KB each
    assert calls.calls["BatchWriteItem"] == 1
    logged = list(ScanRecord.query(tenant["tenant_id"]))
    assert len(logged) == 11 and max(_item_kb(i) for i in logged) <= 1
    assert model.scan_log_wru == 2.0  # the item and its write to the code-index LSI (ALL)
    # the capacity-warning check reads nothing: the code has a target without capacity
    assert calls.calls["GetItem"] / 10 == model.consumer_rru == 0
    assert set(calls.calls) <= {"UpdateItem", "BatchWriteItem", "GetItem", "ReceiveMessage",
                                "DeleteMessageBatch"}, calls.calls
