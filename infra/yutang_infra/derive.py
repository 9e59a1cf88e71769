"""What the deployed stack holds, read from the code so infra/ stays current without edits.

- Tables: one per PynamoDB model (``chalicelib.db.all_models()``), with the keys, indexes and
  projections of ``Model._get_schema()`` (what ``create_table`` uses in the local stack, so local and
  AWS tables match by construction) and DynamoDB TTL on the model's ``TTLAttribute``, if it has one.
- Queues: the events queue plus every queue an ``@app.on_sqs_message`` handler listens to, each
  with a dead-letter queue, as ``devstack/stack.py`` provisions them.
- Functions: the Chalice stage's per-function memory/timeout from ``.chalice/config.json``.

Plain Python (no CDK import), so a unit test checks it in milliseconds.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MAX_RECEIVES = 5  # same redrive as devstack/stack.py
VISIBILITY_PER_TIMEOUT = 6  # AWS's advice for Lambda consumers: 6 x the function timeout


@dataclass(frozen=True)
class Key:
    name: str
    type: str  # "S" | "N" | "B"


@dataclass(frozen=True)
class IndexSpec:
    name: str
    hash_key: Key
    range_key: Key | None
    projection: str  # "ALL" | "KEYS_ONLY" | "INCLUDE"
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    base_name: str
    model: str
    hash_key: Key
    range_key: Key | None
    global_indexes: tuple[IndexSpec, ...] = ()
    local_indexes: tuple[IndexSpec, ...] = ()
    ttl_attribute: str | None = None


@dataclass(frozen=True)
class QueueSpec:
    name: str
    consumer: str | None  # the Chalice function reading it, if any
    visibility_timeout: int

    @property
    def dlq_name(self) -> str:
        return f"{self.name}-dlq"


def _on_path() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def base_name(model: type) -> str:
    meta = model.Meta
    return getattr(meta, "_yutang_base_name", None) or meta.table_name


def table_spec(model: type) -> TableSpec:
    """One model's table, from PynamoDB's own schema (the one ``create_table`` sends)."""
    schema = model._get_schema()
    types = {d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]}
    hash_key, range_key = _keys(schema["key_schema"], types)
    ttl = model._ttl_attribute()
    return TableSpec(
        base_name=base_name(model),
        model=f"{model.__module__}.{model.__qualname__}",
        hash_key=hash_key,
        range_key=range_key,
        global_indexes=tuple(_index(i, types) for i in schema["global_secondary_indexes"]),
        local_indexes=tuple(_index(i, types) for i in schema["local_secondary_indexes"]),
        ttl_attribute=ttl.attr_name if ttl is not None else None,
    )


def _keys(key_schema: list[dict], types: dict[str, str]) -> tuple[Key, Key | None]:
    by_type = {k["KeyType"]: Key(k["AttributeName"], types[k["AttributeName"]]) for k in key_schema}
    return by_type["HASH"], by_type.get("RANGE")


def _index(index: dict, table_types: dict[str, str]) -> IndexSpec:
    types = {**table_types, **{d["AttributeName"]: d["AttributeType"]
                               for d in index.get("attribute_definitions", [])}}
    hash_key, range_key = _keys(index["key_schema"], types)
    projection = index["projection"]
    return IndexSpec(index["index_name"], hash_key, range_key, projection["ProjectionType"],
                     tuple(projection.get("NonKeyAttributes") or ()))


def tables() -> list[TableSpec]:
    """Every model's table, sorted by base name; two models may not share a table."""
    _on_path()
    from chalicelib import db
    from chalicelib.domains import import_models

    import_models()
    import app  # noqa: F401  (its blueprints import any model the list above misses)

    specs = sorted((table_spec(m) for m in db.all_models()), key=lambda s: s.base_name)
    names = [s.base_name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"models share a table name: {duplicates}")
    return specs


def chalice_config() -> dict[str, Any]:
    return json.loads((ROOT / ".chalice" / "config.json").read_text())


def stage_config(stage: str) -> dict[str, Any]:
    config = chalice_config()
    if stage not in config.get("stages", {}):
        raise ValueError(f"no Chalice stage {stage!r} in .chalice/config.json")
    return config["stages"][stage]


def function_setting(stage: str, function: str, key: str) -> Any:
    """A Chalice setting looked up like Chalice does: function, then stage, then global."""
    config = chalice_config()
    stage_cfg = config["stages"][stage]
    for scope in (stage_cfg.get("lambda_functions", {}).get(function, {}), stage_cfg, config):
        if key in scope:
            return scope[key]
    return {"lambda_memory_size": 128, "lambda_timeout": 60}.get(key)


def environment(stage: str) -> dict[str, str]:
    config = chalice_config()
    return {**config.get("environment_variables", {}),
            **config["stages"][stage].get("environment_variables", {})}


def queues(stage: str) -> list[QueueSpec]:
    """The events queue and every ``@app.on_sqs_message`` queue, with their consumers."""
    _on_path()
    from chalice.app import SQSEventConfig

    import app as app_module

    consumers: dict[str, str] = {}
    for source in app_module.app.event_sources:
        if isinstance(source, SQSEventConfig):
            consumers.setdefault(source.queue, source.name)
    names = [environment(stage).get("YUTANG_EVENTS_QUEUE", "yutang-events")]
    names += [n for n in consumers if n not in names]
    specs = []
    for name in names:
        consumer = consumers.get(name)
        timeout = int(function_setting(stage, consumer, "lambda_timeout")) if consumer else 5
        specs.append(QueueSpec(name, consumer, max(30, VISIBILITY_PER_TIMEOUT * timeout)))
    return specs


def functions() -> list[str]:
    """The Lambda functions Chalice creates: the API handler plus one per event handler."""
    _on_path()
    import app as app_module

    return ["api_handler", *sorted({s.name for s in app_module.app.event_sources}
                                   | {f.name for f in app_module.app.pure_lambda_functions})]


PUBLIC_PREFIXES = ("/s/", "/e/", "/m/", "/c/", "/p/")


def api_behaviors() -> list[tuple[str, str]]:
    """(CloudFront path pattern, "public" | "rest") for every top-level path of the app: the
    public prefixes go to the HTTP API, everything else to the REST API. ``/x/{...}`` routes give
    ``/x/*``, a single-segment route (``/openapi.json``) gives itself."""
    _on_path()
    import app as app_module

    out: dict[str, str] = {}
    for path in app_module.app.routes:
        first = path.split("/")[1]
        pattern = f"/{first}/*" if path.count("/") > 1 else path
        out[pattern] = "public" if f"/{first}/" in PUBLIC_PREFIXES else "rest"
    return sorted(out.items())


def public_routes() -> list[tuple[str, str]]:
    """(method, path) of the public, high-volume routes served through the HTTP API (with their
    CORS preflight)."""
    _on_path()
    import app as app_module

    return sorted((method, path) for path, methods in app_module.app.routes.items()
                  if path.startswith(PUBLIC_PREFIXES) for method in methods if method in ("GET", "OPTIONS"))
