"""PynamoDB base model: table names, region and endpoint bound from Settings on first use.

Models declare a short ``Meta.table_name`` ("livecodes"); the deployed name is
``Settings.table_prefix + name``. Binding happens lazily in ``_get_connection`` so importing a model
never reads the environment, and every table's connection shares the registered botocore hooks.
Items that expire declare one PynamoDB ``TTLAttribute`` (epoch seconds); infra/ turns on DynamoDB TTL
for it and ``create_table`` does locally. infra/ derives every table (keys, indexes) from these models.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pynamodb.connection.table import TableConnection
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.settings import get_settings

_hooks: list[tuple[str, Callable]] = []


class BaseModel(Model):
    """Every Yutang table model derives from this."""

    _yutang_bound: bool = False

    class Meta:
        abstract = True
        # set by each model's own Meta (table_name) or by _bind (the rest); declared for mypy
        table_name: str
        region: str | None
        host: str | None
        _yutang_base_name: str

    @classmethod
    def _get_connection(cls) -> Any:
        if not cls.__dict__.get("_yutang_bound"):
            _bind(cls)
        return super()._get_connection()

    @classmethod
    def get_or_raise(cls, hash_key: Any, range_key: Any, missing: Exception) -> Any:
        """The item, read strongly consistent, or ``missing`` raised (the caller's 404)."""
        try:
            return cls.get(hash_key, range_key, consistent_read=True)
        except DoesNotExist:
            raise missing from None

    @classmethod
    def transaction(cls) -> TransactWrite:
        """A TransactWrite on this model's connection (and its hooks): ``with M.transaction() as tx``.
        Items of other models may join it (one DynamoDB client serves every table)."""
        return TransactWrite(connection=cls._get_connection().connection)

    @classmethod
    def table(cls) -> TableConnection:
        """The low-level table connection (bound to the deployed table name), for the few
        operations PynamoDB's model API lacks (an UpdateItem with ADD on many counters, a raw
        BatchWriteItem). Key strings still come from the model's own key builders."""
        return cls._get_connection()

    @classmethod
    def table_name(cls) -> str:
        """The deployed table name (prefix + Meta.table_name)."""
        cls._get_connection()
        return cls.Meta.table_name


def _bind(cls: type[BaseModel]) -> None:
    cfg = get_settings()
    meta = cls.Meta
    base = getattr(meta, "_yutang_base_name", None) or meta.table_name
    meta._yutang_base_name = base
    meta.table_name = cfg.table_prefix + base
    meta.region = cfg.region
    meta.host = cfg.endpoint_url
    cls._connection = None
    cls._yutang_bound = True
    conn = super(BaseModel, cls)._get_connection()
    for event, handler in _hooks:
        conn.connection.client.meta.events.register(event, handler)


def all_models() -> Iterator[type[BaseModel]]:
    seen: set[type] = set()
    stack = list(BaseModel.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        stack.extend(cls.__subclasses__())
        if not getattr(cls.Meta, "abstract", False):
            yield cls


def unbind_all() -> None:
    """Forget bound table names and connections (tests and the local stack switch settings)."""
    for cls in all_models():
        if cls.__dict__.get("_yutang_bound"):
            cls._yutang_bound = False
            cls._connection = None


def register_hook(event: str, handler: Callable) -> None:
    _hooks.append((event, handler))
    for cls in all_models():
        if cls.__dict__.get("_yutang_bound") and cls._connection is not None:
            cls._connection.connection.client.meta.events.register(event, handler)


def unregister_hook(event: str, handler: Callable) -> None:
    if (event, handler) in _hooks:
        _hooks.remove((event, handler))
    for cls in all_models():
        if cls.__dict__.get("_yutang_bound") and cls._connection is not None:
            cls._connection.connection.client.meta.events.unregister(event, handler)


def condition_failed(exc: Exception) -> bool:
    """True when a PynamoDB write failed its condition (the invariant held; not an outage)."""
    if isinstance(exc, (PutError, UpdateError, DeleteError)):
        return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"
    if isinstance(exc, TransactWriteError):
        reasons = getattr(exc, "cancellation_reasons", None) or []
        return any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons)
    return False


def create_tables() -> list[str]:
    """Create every model's table (and its indexes) if missing; on-demand billing. Local stack/tests."""
    created = []
    for cls in all_models():
        cls._get_connection()
        if not cls.exists():
            cls.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
            created.append(cls.Meta.table_name)
    return created


def import_models() -> None:
    """Import every domain's models so ``db.all_models()`` sees them."""
    import importlib

    for name in MODEL_MODULES:
        importlib.import_module(name)


MODEL_MODULES = ["chalicelib.auth.models", "chalicelib.livecodes.models",
                 "chalicelib.analytics.models", "chalicelib.audience.models",
                 "chalicelib.content.models", "chalicelib.mp.models", "chalicelib.wecom.models",
                 "chalicelib.posters.models", "chalicelib.fission.models",
                 "chalicelib.campaigns.models", "chalicelib.channels.models",
                 "chalicelib.portability.models",
                 "chalicelib.hooks.models", "chalicelib.members.models",
                 "chalicelib.journeys.models"]
