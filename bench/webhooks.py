"""Webhook channel benchmark: one sender (the sends queue drained serially, as one Lambda
container would) delivering a campaign to a local receiver that answers every POST in 200 ms.

- recipients/s with the channel's bounded concurrency (target ≥ 50/s per sender);
- the same against a sequential sender (concurrency 1, fewer recipients: ~5/s), as a ratio
  measured in the same run.
"""
from __future__ import annotations

import time

from bench.campaigns import TAG, fan_out, seed_users
from bench.common import row

SIZES = {"small": 320, "full": 2_000}
SEQUENTIAL = {"small": 20, "full": 40}
RECEIVER_SECONDS = float(__import__("os").environ.get("BENCH_RECEIVER", "0.2"))


def _campaign(tenant_id: str, url: str) -> str:
    from chalicelib.campaigns import service

    return service.create(tenant_id, {"name": "webhook bench", "audience": {"tags_all": [TAG]},
                                      "message": {"text": "双11 福利"}, "channel": "webhook",
                                      "webhook_url": url})["id"]


def _measure(name: str, n: int, url: str) -> tuple[float, dict]:
    from chalicelib.auth import service as auth
    from chalicelib.campaigns import service

    tenant_id = auth.create_tenant(name)["tenant_id"]
    seed_users(tenant_id, n)
    campaign_id = _campaign(tenant_id, url)
    started = time.perf_counter()
    run_id, _ = fan_out(tenant_id, campaign_id)
    elapsed = time.perf_counter() - started
    return elapsed, service.stats(tenant_id, campaign_id, run_id)


def run(size: str) -> list[dict]:
    import os

    from tests.support import stack
    from tests.support.http_sink import Sink

    n, seq_n = SIZES[size], SEQUENTIAL[size]
    sink = Sink(delay=RECEIVER_SECONDS).start()
    os.environ["YUTANG_ALLOW_PRIVATE_FETCH"] = "1"
    try:
        with stack.moto_over_http():
            from chalicelib.channels import webhook

            _measure("warm", 5, sink.url)
            elapsed, stats = _measure("bench-webhook", n, sink.url)
            saved = webhook.CONCURRENCY
            webhook.CONCURRENCY = 1
            try:
                seq_elapsed, seq_stats = _measure("bench-webhook-seq", seq_n, sink.url)
            finally:
                webhook.CONCURRENCY = saved
    finally:
        sink.stop()
    rate, seq_rate = n / elapsed, seq_n / seq_elapsed
    exact = stats["sent"] == n and stats["failed"] == 0 and stats["pending"] == 0
    return [
        row(f"webhook campaign to {n} users, receiver 200 ms: sent (all, once)", stats["sent"],
            "msgs", f"== {n}", exact and seq_stats["sent"] == seq_n),
        row("webhook recipients/s per sender (32 in flight)", rate, "/s", ">= 50", rate >= 50),
        row("  vs a sequential sender (same run)", rate / seq_rate, "x",
            f"{seq_rate:.1f}/s sequential"),
    ]
