"""Cost per million scans, from the AWS calls per scan and AWS list prices. Prints a table.

    .venv/bin/python infra/cost_model.py                      # defaults below
    .venv/bin/python infra/cost_model.py --handler-ms 25 --claim-wru 1 --json

Inputs are the calls one scan makes (measure them with ``make bench``, which counts AWS calls per
operation) and the item sizes that set DynamoDB's request units. Prices: us-east-1 list prices,
on-demand, no free tier, first volume tier; other regions differ (Asia-Pacific typically 10-30%
higher; China regions are a separate partition billed in CNY): pass ``--price name=value``.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, fields

PRICES = {  # USD, us-east-1 list prices
    "rest_api_per_million": 3.50,      # API Gateway REST API, first 333 M requests/month
    "http_api_per_million": 1.00,      # API Gateway HTTP API, first 300 M requests/month (512 KB units)
    "lambda_per_million": 0.20,        # Lambda requests
    "lambda_gb_s_arm64": 0.0000133334,  # Lambda duration, arm64 (Graviton)
    "lambda_gb_s_x86_64": 0.0000166667,
    "ddb_rru_per_million": 0.125,      # DynamoDB on-demand read request unit (strong read <= 4 KB)
    "ddb_wru_per_million": 0.625,      # DynamoDB on-demand write request unit (<= 1 KB)
    "sqs_per_million": 0.40,           # SQS standard requests (64 KB chunks)
    "logs_per_gb": 0.50,               # CloudWatch Logs ingestion
}


@dataclass
class Scan:
    """One scan's AWS work. Defaults: a first-visit scan of a live code on a warm container, to a
    target with a capacity (docs/cost.md: the claim on a counter shard, the publish)."""

    api_requests: float = 1.0
    handler_ms: float = 40.0          # API handler duration per scan (warm), billed per ms
    handler_mb: int = 512            # the public handler (scans arrive through the HTTP API)
    # The code's routing data is cached per container for <= 1 s and read eventually consistent
    # (0.5 RRU up to 4 KB): at most one read per container per second, ~0 per scan under load.
    get_rru: float = 0.0
    claim_wru: float = 1.0            # conditional UpdateItem on one counter shard (< 1 KB); 0 for a
                                      # returning visitor or a target without capacity
    sqs_sends: float = 1.0
    batch_size: int = 10              # consumer batch: 1 ReceiveMessage + 1 DeleteMessageBatch per batch
    consumer_ms_per_batch: float = 200.0
    consumer_mb: int = 512
    # The events consumer, measured (tests/api/test_scan_consumer_costs.py: ten first-visit scans
    # of one code-day in one SQS batch): the batch aggregator writes one UpdateItem per key per
    # batch — tenant-day, code-day, channel-day, items <= 1 KB — so 3 WRU per 10 scans; the scan
    # log (the scans export's source) writes one item <= 1 KB per scan in one BatchWriteItem.
    # Scans of several codes or days in one batch touch more keys (at most 1 + 2 per scan).
    stats_wru: float = 0.3            # daily stats UpdateItems per scan (3 per batch of 10)
    scan_log_wru: float = 2.0         # the scan log item per scan and its local secondary index
    unlimited_wru: float = 0.0        # targets without capacity: one counter ADD per target per
                                      # batch (0.1 per scan for ten new visitors to one such target)
    consumer_rru: float = 0.0         # the capacity check reads the counters only near the threshold
    log_kb_per_invocation: float = 0.5  # START/END/REPORT lines plus one structured line
    architecture: str = "arm64"


@dataclass
class CampaignMessages:
    """Per 1,000 recipients of a campaign on the outbox channel, as `make bench` counts them
    (bench.campaigns at 10,000 recipients: BatchWriteItem 80, BatchGetItem 10.2, TransactWriteItems
    1.2, SQS ~1, Query 0.2 per 1,000). The audience comes from its tag postings (~60 B each); the
    BatchGets are the cap counters, read consistently."""

    batch_writes: float = 80.0        # BatchWriteItem calls (25 items each): outbox item + cap counter
    write_items_per_call: float = 25.0
    wru_per_item: float = 1.0
    batch_gets: float = 10.2          # BatchGetItem calls (100 items each): cap counters
    get_items_per_call: float = 100.0
    rru_per_item: float = 1.0         # strongly consistent, <= 4 KB
    posting_kb: float = 60.0          # tag postings a dispatch Queries (eventually consistent)
    transactions: float = 1.2         # TransactWriteItems: batch records + stats (double-priced WRU)
    wru_per_transaction: float = 20.0
    sqs_requests: float = 1.0
    lambda_ms: float = 1500.0         # dispatch + sender time per 1,000 recipients (warm)
    lambda_mb: int = 512
    architecture: str = "arm64"


def campaign_cost_per_100k(c: CampaignMessages, prices: dict[str, float]) -> dict[str, float]:
    k = 100  # thousands of recipients
    wru = k * (c.batch_writes * c.write_items_per_call * c.wru_per_item
               + 2 * c.transactions * c.wru_per_transaction)
    rru = k * (c.batch_gets * c.get_items_per_call * c.rru_per_item + c.posting_kb / 4 * 0.5)
    invocations = k * (c.sqs_requests / 3)
    lines = {
        "DynamoDB writes": wru / 1e6 * prices["ddb_wru_per_million"],
        "DynamoDB reads": rru / 1e6 * prices["ddb_rru_per_million"],
        "SQS": k * c.sqs_requests / 1e6 * prices["sqs_per_million"],
        "Lambda": invocations / 1e6 * prices["lambda_per_million"]
        + k * c.lambda_ms / 1000 * c.lambda_mb / 1024 * prices[f"lambda_gb_s_{c.architecture}"],
    }
    lines["total"] = sum(lines.values())
    return {name: round(value, 4) for name, value in lines.items()}


def cost_per_million(scan: Scan, api: str, prices: dict[str, float]) -> dict[str, float]:
    gb_s = prices[f"lambda_gb_s_{scan.architecture}"]
    consumer_invocations = 1 / scan.batch_size
    invocations = scan.api_requests + consumer_invocations
    lines = {
        f"API Gateway {api.upper()} API": scan.api_requests * prices[f"{api}_api_per_million"],
        "Lambda requests (handler + consumer)": invocations * prices["lambda_per_million"],
        "Lambda duration, handler": 1e6 * scan.handler_ms / 1000 * scan.handler_mb / 1024 * gb_s,
        "Lambda duration, consumer": 1e6 * consumer_invocations * scan.consumer_ms_per_batch / 1000
        * scan.consumer_mb / 1024 * gb_s,
        "DynamoDB reads (scan + consumer)": (scan.get_rru + scan.consumer_rru)
        * prices["ddb_rru_per_million"],
        "DynamoDB writes (claim, stats, log)": (scan.claim_wru + scan.stats_wru
                                                + scan.scan_log_wru + scan.unlimited_wru)
        * prices["ddb_wru_per_million"],
        "SQS (send + receive/delete per batch)": (scan.sqs_sends + 2 * consumer_invocations)
        * prices["sqs_per_million"],
        "CloudWatch Logs": 1e6 * invocations * scan.log_kb_per_invocation / 1024 / 1024
        * prices["logs_per_gb"],
    }
    lines["total"] = sum(lines.values())
    return {k: round(v, 3) for k, v in lines.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for f in fields(Scan):
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default)
    parser.add_argument("--returning", action="store_true",
                        help="a returning visitor: no claim write (cookie), same read and publish")
    parser.add_argument("--price", action="append", default=[], metavar="NAME=USD")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    prices = {**PRICES, **{k: float(v) for k, v in (p.split("=", 1) for p in args.price)}}
    scan = Scan(**{f.name: getattr(args, f.name) for f in fields(Scan)})
    if args.returning:
        scan.claim_wru = 0
    result = {api: cost_per_million(scan, api, prices) for api in ("rest", "http")}
    if args.json:
        print(json.dumps({"inputs": asdict(scan), "prices": prices, "usd_per_million_scans": result}))
        return
    print("USD per million scans          REST API   HTTP API")
    rest, http = result["rest"], result["http"]
    for (name, value), other in zip(rest.items(), http.values(), strict=True):
        print(f"{name.replace(' REST API', ''):<38}{value:>8.2f}{other:>11.2f}")
    print("\nUSD per 100,000 campaign messages (outbox channel; 企业微信 adds no AWS cost)")
    for name, value in campaign_cost_per_100k(CampaignMessages(), prices).items():
        print(f"{name:<38}{value:>8.4f}")


if __name__ == "__main__":
    main()
