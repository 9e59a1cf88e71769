"""Journey stats (summed over the stats shards the step transactions add to) and a person's
journey history."""
from __future__ import annotations

from collections import Counter
from typing import Any

from chalicelib import aws
from chalicelib.journeys import service, significance
from chalicelib.journeys.models import Journey, Position

TOTALS = ("entered", "exited", "converted", "archived")


def counters(tenant_id: str, journey_id: str) -> Counter:
    client = aws.client("dynamodb")
    answer = client.query(TableName=Journey.table_name(), ConsistentRead=True,
                          KeyConditionExpression="tenant_id = :t AND begins_with(sk, :p)",
                          ExpressionAttributeValues={":t": {"S": tenant_id},
                                                     ":p": {"S": Journey.stat_key(journey_id)}})
    total: Counter = Counter()
    for item in answer.get("Items", []):
        for attr, value in item.items():
            if "N" in value:
                total[attr] += int(value["N"])
    return total


def journey_stats(tenant_id: str, journey_id: str) -> dict:
    j = service.get(tenant_id, journey_id)
    c = counters(tenant_id, journey_id)
    return {"journey_id": journey_id, **{k: c.get(k, 0) for k in TOTALS},
            "steps": _steps(j["steps"], c), "paths": _paths(c), "splits": _splits(j["steps"], c)}


def _steps(steps: list[dict], c: Counter) -> list[dict]:
    ids = [s["id"] for s in steps]
    seen = {k.split(":", 1)[1] for k in c if k.startswith(("n:", "at:"))}
    types = {s["id"]: s["type"] for s in steps}
    out = []
    for sid in ids + sorted(seen - set(ids)):  # steps of older versions come last
        row: dict[str, Any] = {"id": sid, "type": types.get(sid), "people": c.get(f"at:{sid}", 0),
                               "executions": c.get(f"n:{sid}", 0)}
        extra = {k.split(":", 1)[0]: v for k, v in c.items()
                 if k.endswith(f":{sid}") and not k.startswith(("n:", "at:")) and v}
        if extra:
            row["outcomes"] = extra
        out.append(row)
    return out


def _paths(c: Counter) -> list[dict]:
    out = []
    for key, people in sorted(c.items()):
        if key.startswith("pp:"):
            path = key[3:]
            conv = c.get(f"cp:{path}", 0)
            out.append({"path": path, "people": people, "conversions": conv,
                        "rate": significance.rate(conv, people)})
    return out


def _splits(steps: list[dict], c: Counter) -> list[dict]:
    out = []
    for step in steps:
        if step["type"] != "split":
            continue
        arms = [{"name": a["name"], "weight": a["weight"],
                 "people": c.get(f"arm:{step['id']}:{a['name']}", 0),
                 "conversions": c.get(f"ca:{step['id']}:{a['name']}", 0)} for a in step["arms"]]
        base = arms[0]
        for arm in arms:
            arm["rate"] = significance.rate(arm["conversions"], arm["people"])
            if arm is not base:
                arm["vs_first"] = significance.z_test(base["conversions"], base["people"],
                                                      arm["conversions"], arm["people"])
        out.append({"step": step["id"], "arms": arms})
    return out


def user_journeys(tenant_id: str, user_id: str) -> dict:
    """A person's entries, newest last per journey (one Query of the person's partition)."""
    items = []
    for p in Position.query(Position.partition(tenant_id, user_id)):
        if Position.is_lock(p.sk):
            continue
        items.append({"journey_id": p.journey_id, "entry_id": p.entry_id,
                      "version": int(p.version or 1), "status": p.status, "step": p.step,
                      "phase": p.phase, "path": p.path or "", "arms": p.arms or {},
                      "entered_at": service.iso(p.entered_at),
                      "ended_at": service.iso(p.ended_at),
                      "history": [{"step": s, "at": service.iso(at), "outcome": text}
                                  for s, at, text in (p.history or [])]})
    return {"items": items, "next_cursor": None}
