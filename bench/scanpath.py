"""The scan path at scale: AWS calls per scan, the capacity model of one live code, the cost per
million scans fed with the measured calls, and a bounded load run on the local stack.

- Calls are counted (botocore ``before-send``), per scan kind on a warm container, and for the
  events consumer per SQS batch of ten scans of one code-day (ReceiveMessage/DeleteMessageBatch are
  the Lambda poller's, priced in the cost model's SQS line, not counted as the function's calls).
- The capacity model takes the requests actually made and the items' measured sizes, and divides
  DynamoDB's per-partition limits (1,000 WCU/s, 3,000 RCU/s) by the units per scan on each hot item.
- The load run: concurrent clients scan a code with capacity-limited groups, a daily-capped staff
  with a backup and a fallback, against moto over HTTP (conditional writes serialised as DynamoDB
  does); every capacity must come out exact, with zero errors.
"""
from __future__ import annotations

import json
import math
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from bench.common import counting, row

WCU_LIMIT, RCU_LIMIT = 1000, 3000  # per partition per second
POLLER = {"ReceiveMessage", "DeleteMessageBatch"}
SIZES = {"small": {"scans": 400, "clients": 20}, "full": {"scans": 2000, "clients": 50}}
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.47"


def _visitor(cookie: str = ""):
    from chalicelib.livecodes import service

    return service.Visitor(cookie_header=cookie, user_agent=PHONE)


def _kb(item) -> float:
    return len(json.dumps(item.serialize(), ensure_ascii=False).encode()) / 1024


def _drain() -> Counter:
    """Handle everything queued; the calls of the last batch (the poller's left out)."""
    import app as app_module
    from chalicelib.settings import get_settings
    from devstack.drain import drain_once

    with counting() as calls:
        drain_once(get_settings().events_queue, app_module.handle_events, visibility_timeout=0)
    return Counter({k: v for k, v in calls.calls.items() if k not in POLLER})


def _ten_then_drain(slug: str, cookie: str = "") -> Counter:
    from chalicelib.livecodes import service

    _drain()
    for _ in range(10):
        service.scan(slug, _visitor(cookie))
    return _drain()


def measure() -> dict:
    """Calls per scan kind (warm), per consumer batch of ten, and the hot items' sizes. The
    container's caches hold for the whole measurement (a warm container within the cache bound;
    the capacity model counts the code's re-reads per container per bound apart)."""
    from chalicelib.livecodes import cache, counters

    saved = cache._monotonic, counters._monotonic
    frozen = time.monotonic()
    cache._monotonic = counters._monotonic = lambda: frozen
    try:
        return _measure()
    finally:
        cache._monotonic, counters._monotonic = saved


def _measure() -> dict:
    from chalicelib.analytics.models import DailyStats
    from chalicelib.auth import service as auth
    from chalicelib.livecodes import service
    from chalicelib.livecodes.models import ClaimCounter, LiveCode
    from chalicelib.portability.models import ScanRecord
    from tests.support.images import png_b64

    tid = auth.create_tenant("scanpath")["tenant_id"]
    targets = [{"kind": "staff", "name": f"staff {i}", "image": png_b64(), "capacity": 100_000}
               for i in range(10)]  # 10 staff targets, each with 10 counter shards
    capped = service.create(tid, {"name": "tv", "channel": "tv", "targets": targets})
    free = service.create(tid, {"name": "site", "channel": "tv", "targets": [
        {"kind": "url", "name": "u", "url": "https://example.com/"}]})
    warm = service.scan(capped["slug"], _visitor())  # clients, queue URL, the codes' cache
    service.scan(free["slug"], _visitor())
    cookie = warm.set_cookie.split(";", 1)[0]
    out: dict = {"request": {}, "consumer": {}, "kb": {}}
    for kind, slug, c in (("new", capped["slug"], ""), ("returning", capped["slug"], cookie),
                          ("new_uncapped", free["slug"], "")):
        with counting() as calls:
            service.scan(slug, _visitor(c))
        out["request"][kind] = dict(calls.calls)
    for kind, slug, c in (("new", capped["slug"], ""), ("returning", capped["slug"], cookie),
                          ("new_uncapped", free["slug"], "")):
        out["consumer"][kind] = dict(_ten_then_drain(slug, c))
    code_item = LiveCode.get(tid, capped["id"])
    out["kb"]["code"] = _kb(code_item)
    out["kb"]["counter"] = max(_kb(i) for i in ClaimCounter.batch_get(
        [ClaimCounter.key(tid, capped["id"], t.id, s) for t in code_item.targets for s in range(10)]))
    stats = list(DailyStats.query(tid))
    out["kb"]["stats"] = max(_kb(i) for i in stats)
    out["kb"]["scan_log"] = max(_kb(i) for i in ScanRecord.query(tid))
    return out


def per_scan(counts: dict, batch: int = 10) -> float:
    return sum(counts.values()) / batch


def capacity_model(m: dict, handler_ms: float = 40.0, cache_s: float = 1.0,
                   batch: int = 10) -> dict:
    """Sustainable rates for one code under per-partition limits, from the measured requests."""
    wcu = lambda kb: max(1, math.ceil(kb))  # noqa: E731 - a unit rule
    claim_writes = m["request"]["new"].get("UpdateItem", 0)
    claim_units = claim_writes * wcu(m["kb"]["counter"])  # on one shard
    code_reads_per_scan = m["request"]["new"].get("GetItem", 0)  # warm: 0; one per container per TTL
    containers_per_scan_s = handler_ms / 1000  # concurrent containers per scan/s
    code_rru = max(1, math.ceil(m["kb"]["code"] / 4)) * 0.5  # eventually consistent
    code_reads_s = lambda s: s * containers_per_scan_s / cache_s * code_rru  # noqa: E731
    scans_request = RCU_LIMIT / code_reads_s(1)
    shards = 10
    visitors_target = shards * WCU_LIMIT / claim_units
    stats_units = wcu(m["kb"]["stats"])  # one write per key per batch (code-day, tenant-day, channel-day)
    scans_stats = WCU_LIMIT * batch / stats_units
    log_units = 2 * wcu(m["kb"]["scan_log"])  # the item and its local secondary index
    scans_log = WCU_LIMIT / log_units
    return {"claim_units_per_new_visitor": claim_units, "code_reads_per_scan": code_reads_per_scan,
            "code_rru_per_scan": code_reads_s(1), "scans_per_s_request_path": scans_request,
            "new_visitors_per_s_one_target": visitors_target,
            "new_visitors_per_s_code_of_10": 10 * visitors_target,
            "stats_units_per_scan": stats_units / batch, "scans_per_s_stats_item": scans_stats,
            "scan_log_units_per_scan": log_units, "scans_per_s_scan_log_tenant": scans_log}


def cost(m: dict, kind: str) -> float:
    """USD per million scans of one kind, all in, through the HTTP API (infra/cost_model.py)."""
    from infra.cost_model import PRICES, Scan, cost_per_million

    request, consumer = m["request"][kind], m["consumer"][kind]
    stats_keys = 3  # code-day, tenant-day, channel-day: one UpdateItem each per batch
    scan = Scan(claim_wru=request.get("UpdateItem", 0) * max(1, math.ceil(m["kb"]["counter"])),
                get_rru=0.0, stats_wru=stats_keys / 10,
                unlimited_wru=(consumer.get("UpdateItem", 0) - stats_keys) / 10,
                scan_log_wru=2 * max(1, math.ceil(m["kb"]["scan_log"])),
                consumer_rru=(consumer.get("GetItem", 0) + consumer.get("BatchGetItem", 0)) / 10)
    return cost_per_million(scan, "http", PRICES)["total"]


# ---- the load run -------------------------------------------------------------------------------

def load_run(scans: int, clients: int) -> dict:
    """``scans`` scans by ``clients`` concurrent clients (a third come back with their cookie):
    three groups of capacity 30, a staff capped at 40 a day with a backup of capacity 60, and a
    fallback. Every capacity must come out exact and no scan may fail."""
    from chalicelib.auth import service as auth
    from chalicelib.livecodes import service
    from tests.support.images import png_b64

    tid = auth.create_tenant("load")["tenant_id"]
    code = service.create(tid, {"name": "load", "channel": "load", "targets": [
        *({"kind": "group", "name": f"g{i}", "image": png_b64(), "capacity": 30} for i in range(3)),
        {"kind": "staff", "name": "staff", "image": png_b64(), "daily_capacity": 40},
        {"kind": "staff", "name": "backup", "image": png_b64(), "capacity": 60, "backup": True}],
        "fallback": {"kind": "staff", "name": "cs", "image": png_b64()}})
    cookies: list[str] = []
    errors: list[str] = []

    def visit(i: int) -> tuple[str | None, bool]:
        cookie = cookies[i % len(cookies)] if i % 3 == 2 and cookies else ""
        try:
            r = service.scan(code["slug"], _visitor(cookie))
        except Exception as exc:  # noqa: BLE001 - counted: the run must have none
            errors.append(f"{type(exc).__name__}: {exc}")
            return None, False
        if not cookie:
            cookies.append(r.set_cookie.split(";", 1)[0])
        return (r.target.name if r.target else None), r.assigned

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(visit, range(scans)))
    seconds = time.perf_counter() - start
    assigned = Counter(name for name, placed in results if placed)
    view = service.get(tid, code["id"])
    stored = {t["name"]: t["assigned"] for t in view["targets"] if t["name"] != "staff"}
    stored["staff"] = next(t["assigned_today"] for t in view["targets"] if t["name"] == "staff")
    exact = (all(stored[f"g{i}"] == assigned[f"g{i}"] == 30 for i in range(3))
             and stored["staff"] == assigned["staff"] == 40
             and stored["backup"] == assigned["backup"] == 60)
    return {"errors": errors, "exact": exact, "assigned": dict(assigned), "stored": stored,
            "seconds": seconds, "scans": scans}


def run(size: str) -> list[dict]:
    from tests.support import stack

    with stack.moto_over_http():
        m = measure()
        load = load_run(**SIZES[size])
    model = capacity_model(m)
    req = {k: sum(v.values()) for k, v in m["request"].items()}
    allin = {k: req[k] + per_scan(m["consumer"][k]) for k in req}
    return [
        row("calls per scan, new visitor (warm)", req["new"], "calls", "<= 2", req["new"] <= 2),
        row("calls per scan, returning visitor (warm)", req["returning"], "calls", "<= 1",
            req["returning"] <= 1),
        row("calls per scan, new visitor to an uncapped target", req["new_uncapped"], "calls",
            "<= 1", req["new_uncapped"] <= 1),
        row("calls per scan all-in (batch 10), new visitor", allin["new"], "calls", "<= 2.3",
            allin["new"] <= 2.3),
        row("calls per scan all-in (batch 10), returning", allin["returning"], "calls", "<= 1.2",
            allin["returning"] <= 1.2),
        row("calls per scan all-in (batch 10), new to uncapped", allin["new_uncapped"], "calls"),
        row("WCU per new visitor on the hottest item (a counter shard)",
            model["claim_units_per_new_visitor"], "WCU", "1", model["claim_units_per_new_visitor"] == 1),
        row("RCU per scan on the code item (cache 1 s, 40 ms handler)", model["code_rru_per_scan"],
            "RCU", f"code item {m['kb']['code']:.1f} KB"),
        row("scans/s for one code, request path (code item reads)",
            model["scans_per_s_request_path"], "scans/s", ">= 20000",
            model["scans_per_s_request_path"] >= 20000),
        row("new visitors/s for one code of 10 staff (10 shards each)",
            model["new_visitors_per_s_code_of_10"], "visitors/s", ">= 5000",
            model["new_visitors_per_s_code_of_10"] >= 5000),
        row("new visitors/s for one hot target (10 shards)", model["new_visitors_per_s_one_target"],
            "visitors/s", ">= 5000", model["new_visitors_per_s_one_target"] >= 5000),
        row("scans/s for one code, consumer's code-day item (batch 10)",
            model["scans_per_s_stats_item"], "scans/s", "info: 1 write per key per batch"),
        row("scans/s for one tenant, scan log partition (item + LSI)",
            model["scans_per_s_scan_log_tenant"], "scans/s", "info: tenant-keyed log"),
        row("USD per million scans all-in, new visitor (HTTP API)", cost(m, "new"), "USD", "<= 2.50",
            cost(m, "new") <= 2.5),
        row("USD per million scans all-in, returning (HTTP API)", cost(m, "returning"), "USD"),
        row("USD per million scans all-in, new to uncapped (HTTP API)", cost(m, "new_uncapped"), "USD"),
        row(f"load run: {load['scans']} scans, {SIZES[size]['clients']} clients, errors",
            len(load["errors"]), "errors", "0", not load["errors"]),
        row("load run: every capacity exact (groups 3x30, staff 40/day, backup 60)",
            float(load["exact"]), "bool", "1", load["exact"]),
        row("load run: scans/s on moto over HTTP (informational)", load["scans"] / load["seconds"],
            "scans/s"),
    ]
