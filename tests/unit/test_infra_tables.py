"""infra/ derives its tables and queues from the code: GIVEN the models and the Chalice app, WHEN the
deploy definition is derived, THEN every table has the model's keys, indexes and TTL, and every SQS
handler has a queue with a dead-letter queue. No CDK and no synth here (``make synth`` does that)."""
from __future__ import annotations

import pytest
from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection, LocalSecondaryIndex
from pynamodb.models import Model

from chalicelib import db
from infra.yutang_infra import derive


@pytest.fixture(scope="module")
def specs() -> dict[str, derive.TableSpec]:
    return {s.model: s for s in derive.tables()}


def _models() -> list[type]:
    derive.tables()
    return list(db.all_models())


def _key(model: type, flag: str) -> tuple[str, str] | None:
    for attr in model.get_attributes().values():
        if getattr(attr, flag):
            return attr.attr_name, attr.attr_type
    return None


def test_every_model_has_one_table_with_its_keys(specs):
    models = _models()
    assert len(specs) == len(models) >= 3
    for model in models:
        spec = specs[f"{model.__module__}.{model.__qualname__}"]
        assert spec.base_name == derive.base_name(model)
        assert (spec.hash_key.name, spec.hash_key.type) == _key(model, "is_hash_key")
        range_key = (spec.range_key.name, spec.range_key.type) if spec.range_key else None
        assert range_key == _key(model, "is_range_key")


def test_indexes_match_the_models(specs):
    for model in _models():
        spec = specs[f"{model.__module__}.{model.__qualname__}"]
        declared = {i.Meta.index_name: i for i in model._indexes.values()}
        derived = {i.name: i for i in (*spec.global_indexes, *spec.local_indexes)}
        assert set(derived) == set(declared), model
        for name, index in declared.items():
            keys = {a.attr_name: (a.is_hash_key, a.is_range_key) for a in index.Meta.attributes.values()}
            got = derived[name]
            assert keys[got.hash_key.name][0] and (got.range_key is None or keys[got.range_key.name][1])
            assert got.projection == index.Meta.projection.projection_type
            assert (got in spec.local_indexes) == isinstance(index, LocalSecondaryIndex)


def test_table_names_are_unique(specs):
    names = [s.base_name for s in specs.values()]
    assert len(names) == len(set(names))


class _ByDay(GlobalSecondaryIndex):
    class Meta:
        index_name = "day-index"
        projection = IncludeProjection(["title"])

    day = UnicodeAttribute(hash_key=True)
    at = NumberAttribute(range_key=True)


class _ByStage(LocalSecondaryIndex):
    class Meta:
        index_name = "stage-index"
        projection = KeysOnlyProjection()

    pk = UnicodeAttribute(hash_key=True)
    stage = UnicodeAttribute(range_key=True)


class _Expiring(Model):  # a plain PynamoDB model: not registered with chalicelib.db
    class Meta:
        table_name = "expiring"

    pk = UnicodeAttribute(hash_key=True)
    sk = NumberAttribute(range_key=True)
    day = UnicodeAttribute(null=True)
    at = NumberAttribute(null=True)
    stage = UnicodeAttribute(null=True)
    expires = TTLAttribute(attr_name="expires_at_epoch", null=True)
    by_day = _ByDay()
    by_stage = _ByStage()


def test_ttl_attribute_projections_and_index_keys_are_derived():
    spec = derive.table_spec(_Expiring)
    assert spec.ttl_attribute == "expires_at_epoch"
    assert (spec.hash_key, spec.range_key) == (derive.Key("pk", "S"), derive.Key("sk", "N"))
    assert spec.global_indexes == (derive.IndexSpec("day-index", derive.Key("day", "S"),
                                                    derive.Key("at", "N"), "INCLUDE", ("title",)),)
    assert spec.local_indexes == (derive.IndexSpec("stage-index", derive.Key("pk", "S"),
                                                   derive.Key("stage", "S"), "KEYS_ONLY"),)


def test_every_sqs_handler_has_a_queue_with_room_for_its_timeout():
    from chalice.app import SQSEventConfig

    import app as app_module

    queues = {q.name: q for q in derive.queues("prod")}
    assert "yutang-events" in queues
    for source in app_module.app.event_sources:
        if isinstance(source, SQSEventConfig):
            queue = queues[source.queue]
            timeout = derive.function_setting("prod", source.name, "lambda_timeout")
            assert queue.consumer == source.name
            assert queue.visibility_timeout >= timeout
            assert queue.dlq_name == f"{source.queue}-dlq"


def test_function_settings_come_from_chalice_config():
    config = derive.chalice_config()
    for stage, stage_cfg in config["stages"].items():
        functions = set(derive.functions())
        assert set(stage_cfg.get("lambda_functions", {})) <= functions, "config names no such function"
        for name in functions:
            assert derive.function_setting(stage, name, "lambda_memory_size") >= 128
            assert derive.function_setting(stage, name, "lambda_timeout") >= 1
    assert derive.function_setting("prod", "api_handler", "lambda_memory_size") == (
        config["stages"]["prod"]["lambda_functions"]["api_handler"]["lambda_memory_size"])
