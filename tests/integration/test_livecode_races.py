"""Exact capacity under concurrency on the local stack's DynamoDB (moto over HTTP, which orders
conditional writes as DynamoDB does): sharded counters, and a daily cap with a backup target and a
fallback while many threads claim across midnight in the code's timezone."""
from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from chalicelib import clock
from chalicelib.livecodes import counters, service
from chalicelib.livecodes.models import LiveCode
from tests.support import stack as test_stack
from tests.support.images import png_b64

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.47"
MIDNIGHT_SH = datetime(2026, 12, 2, 16, 0, tzinfo=timezone.utc)  # 00:00 on 12-03 in Shanghai


def _staff(name, **kw):
    return {"kind": "staff", "name": name, "image": png_b64(), **kw}


def test_daily_and_lifetime_caps_are_exact_across_midnight(monkeypatch):
    local = threading.local()
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: getattr(local, "now", None) or real_now())
    with test_stack.moto_over_http():
        from chalicelib.auth import service as auth

        tid = auth.create_tenant("midnight")["tenant_id"]
        code = service.create(tid, {"name": "m", "channel": "c", "timezone": "Asia/Shanghai",
                                    "targets": [_staff("staff", capacity=50, daily_capacity=30),
                                                _staff("backup", capacity=100, backup=True)],
                                    "fallback": _staff("cs")})
        times = [MIDNIGHT_SH - timedelta(seconds=1) + timedelta(milliseconds=i) if i < 120
                 else MIDNIGHT_SH + timedelta(milliseconds=i) for i in range(200)]

        def visit(at):
            local.now = at
            result = service.scan(code["slug"], service.Visitor(user_agent=PHONE))
            return at < MIDNIGHT_SH, result.target.name if result.target else None

        with ThreadPoolExecutor(max_workers=25) as pool:
            placed = Counter(pool.map(visit, times))
        assert placed[(True, "staff")] == 30  # day 1: the daily cap
        assert placed[(False, "staff")] == 20  # day 2: what the lifetime capacity leaves
        assert placed[(True, "backup")] == 90 and placed[(False, "backup")] == 10  # its 100
        assert placed[(False, "cs")] == 50 and sum(placed.values()) == 200
        stored = LiveCode.get(tid, code["id"])
        shards = counters.read(tid, code["id"], stored.targets)
        staff = shards[counters.keys(tid, code["id"], stored.targets[0])[0]]
        assert (staff.n, staff.day, staff.dn) == (50, "2026-12-03", 20)
        local.now = MIDNIGHT_SH + timedelta(hours=1)
        view = service.get(tid, code["id"])["targets"]
        assert [(t["assigned"], t["assigned_today"], t["status"]) for t in view] == [
            (50, 20, "full"), (100, 0, "full")]  # assigned_today: daily-capped targets only


def test_a_sharded_target_takes_exactly_its_capacity_under_concurrency(monkeypatch):
    monkeypatch.setattr(counters, "SHARD_SIZE", 10)
    with test_stack.moto_over_http():
        from chalicelib.auth import service as auth

        tid = auth.create_tenant("shards")["tenant_id"]
        code = service.create(tid, {"name": "s", "channel": "c", "targets": [
            {"kind": "group", "name": "g", "capacity": 25, "image": png_b64()}],
            "fallback": _staff("cs")})
        with ThreadPoolExecutor(max_workers=20) as pool:
            names = Counter(pool.map(
                lambda _: service.scan(code["slug"], service.Visitor(user_agent=PHONE)).target.name,
                range(40)))
        assert names == {"g": 25, "cs": 15}
        stored = LiveCode.get(tid, code["id"])
        shards = counters.read(tid, code["id"], stored.targets)
        assert len(shards) == 3 and sum(s.n for s in shards.values()) == 25
        assert all(s.n == s.cap for s in shards.values())
