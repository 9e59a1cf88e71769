"""The running `make dev` stack does on its own what AWS would: its tick fires scheduled campaigns,
its server takes many clients at once, and it refuses private-address fetches by default."""
import json
import time
from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.e2e


def _json(raw: bytes) -> dict:
    return json.loads(raw) if raw else {}


def test_a_scheduled_campaign_is_sent_by_the_stack_on_its_own(dev_stack):
    tag = f"sched{int(time.time() * 1000) % 10**8}"
    made = []
    for i in range(3):
        status, _, raw = dev_stack.request("POST", "/v1/users", {
            "identities": {"brand_user_id": f"{tag}-{i}"}, "tags": [tag]})
        assert status in (200, 201), raw
        made.append(_json(raw)["id"])
    at = datetime.now(timezone.utc) + timedelta(seconds=5)
    status, _, raw = dev_stack.request("POST", "/v1/campaigns", {
        "name": "定时", "audience": {"tags_all": [tag]}, "channel": "outbox",
        "message": {"text": "到点了"}, "schedule": {"at": at.isoformat()}, "quiet_hours": False})
    assert status == 201, raw
    cid = _json(raw)["id"]
    deadline = time.monotonic() + 90  # bounded: at + a few 2-second ticks, on a busy machine
    stats: dict = {}
    while time.monotonic() < deadline:
        _, _, raw = dev_stack.request("GET", f"/v1/campaigns/{cid}/stats")
        stats = _json(raw)
        if stats.get("sent") == 3:
            break
        time.sleep(1)
    assert stats.get("sent") == 3 and stats.get("runs") == 1, stats
    _, _, raw = dev_stack.request("GET", f"/v1/outbox?campaign_id={cid}")
    assert sorted(o["user_id"] for o in _json(raw)["items"]) == sorted(made)
    _, _, raw = dev_stack.request("GET", f"/v1/campaigns/{cid}")
    assert _json(raw)["last_run_id"] is not None and _json(raw)["next_run_at"] is None
