"""Run every benchmark and print one table. Ratios are measured against a baseline in the same
run (the machines are noisy); AWS calls are counted, not timed.

Each module in MODULES has ``run(size: str) -> list[dict]`` (rows from ``bench.common.row``)."""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

MODULES = ["bench.livecodes", "bench.scanpath", "bench.posters", "bench.content", "bench.campaigns",
           "bench.smartpush", "bench.insight", "bench.devstack", "bench.webhooks", "bench.portability",
           "bench.team", "bench.console", "bench.entry", "bench.journeys"]


def main(argv: list[str] | None = None) -> int:
    import os

    os.environ.setdefault("YUTANG_METRICS", "0")  # no EMF lines between the measurements
    os.environ.setdefault("YUTANG_LOG_LEVEL", "WARNING")
    p = argparse.ArgumentParser()
    p.add_argument("--size", choices=["small", "full"], default="full")
    p.add_argument("--only", help="run one module, e.g. bench.livecodes")
    p.add_argument("--json", help="also write the rows to this file")
    args = p.parse_args(argv)
    rows, failed = [], []
    for name in [args.only] if args.only else MODULES:
        print(f"== {name} ({args.size})", flush=True)
        module_rows = importlib.import_module(name).run(args.size)
        for r in module_rows:
            mark = "" if r["ok"] is None else ("  ok" if r["ok"] else "  MISSED")
            print(f"  {r['name']:<62} {r['value']:>10.2f} {r['unit']:<10} {r['target']}{mark}",
                  flush=True)
            if r["ok"] is False:
                failed.append(r["name"])
        rows.extend(module_rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    if failed:
        print(f"\n{len(failed)} target(s) missed: {', '.join(failed)}")
    print(f"\n{len(rows)} measurements")
    return 0


if __name__ == "__main__":
    sys.exit(main())
