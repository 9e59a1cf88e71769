"""What a domain package adds to the app, declared in one place: ``chalicelib/<pkg>/domain.py``.

Each package's ``domain.py`` exposes ``DOMAIN``: its routes (a Blueprint), the event consumers it
runs per event type, its tick jobs, its OpenAPI parts (its ``spec`` module: ``PATHS`` and
``SCHEMAS``) and its table models. ``chalicelib/domains.py`` lists the packages; ``app.py``
registers their routes, :mod:`chalicelib.dispatcher` runs their consumers, :mod:`chalicelib.scheduler`
their jobs, :mod:`chalicelib.apidoc` merges their OpenAPI parts and
:func:`chalicelib.domains.import_models` loads their models.

A declaration reads like Chalice's own registrations::

    DOMAIN = Domain("livecodes", routes, spec="chalicelib.livecodes.spec",
                    models="chalicelib.livecodes.models")

    @DOMAIN.consumer("scan", name="chalicelib.livecodes.consumers:check_after_scans")
    def check_after_scans(payloads: list[dict]) -> None:
        from chalicelib.livecodes import consumers

        consumers.check_after_scans(payloads)

Cold start: a declaration imports only its routes module (which ``app.py`` loads anyway). Consumers
and jobs are small functions that import their module *inside the body*, so that code runs only
when called while the edge stays visible to a reader and to mypy. The spec and models modules
(data: dicts and table classes, nothing to call) are named by their module name and imported by
the readers that need them.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalice import Blueprint

ConsumerFn = Callable[[list[dict]], None]
JobFn = Callable[[datetime], int]


class Consumer:
    """An event consumer: ``run`` receives the payloads of one event type.

    ``name`` is its stable id ("module:function" where the code lived when it was named): retried
    messages carry it (``_only``) and the dead-letter queue shows it, so it stays when the code
    moves. ``batch``: called once per SQS batch with every payload that lists it (not once per
    payload). ``history``: also receives imported history (payloads with ``imported: true``), which
    the other consumers never see (it must trigger no campaign, tag or warning).

    (Plain classes, not dataclasses: building a dataclass costs milliseconds at import, and
    ``import app`` loads this module.)"""
    __slots__ = ("name", "run", "batch", "history")

    def __init__(self, name: str, run: ConsumerFn, *, batch: bool = False,
                 history: bool = False) -> None:
        self.name, self.run, self.batch, self.history = name, run, batch, history

    def __repr__(self) -> str:
        return f"Consumer({self.name!r}, batch={self.batch}, history={self.history})"


class Job:
    """A tick job: ``run(now)`` acts on what is due at ``now`` and answers a count."""
    __slots__ = ("name", "run")

    def __init__(self, name: str, run: JobFn) -> None:
        self.name, self.run = name, run

    def __repr__(self) -> str:
        return f"Job({self.name!r})"


class Domain:
    """A package's declaration: ``routes``, ``spec`` (the module of its OpenAPI parts: PATHS,
    SCHEMAS) and ``models`` (the module of its tables) given here; consumers and jobs added by the
    decorators below."""

    def __init__(self, name: str, routes: Blueprint | None = None, *, spec: str | None = None,
                 models: str | None = None) -> None:
        self.name, self.routes, self.spec, self.models = name, routes, spec, models
        self.consumers: dict[str, list[Consumer]] = {}  # event type -> its consumers
        self.jobs: list[Job] = []

    def __repr__(self) -> str:
        return f"Domain({self.name!r})"

    def consumer(self, *event_types: str, name: str, batch: bool = False,
                 history: bool = False) -> Callable[[ConsumerFn], ConsumerFn]:
        """Declare the decorated function as the consumer ``name`` of ``event_types``."""
        def register(run: ConsumerFn) -> ConsumerFn:
            declared = Consumer(name, run, batch=batch, history=history)
            for event_type in event_types:
                self.consumers.setdefault(event_type, []).append(declared)
            return run
        return register

    def job(self, *, name: str) -> Callable[[JobFn], JobFn]:
        """Declare the decorated function as the tick job ``name``."""
        def register(run: JobFn) -> JobFn:
            self.jobs.append(Job(name, run))
            return run
        return register
