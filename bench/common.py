"""Benchmark helpers: AWS call counting (botocore event hooks) and same-run timing ratios."""
from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class CallCounter:
    """Counts AWS API calls made by every client (boto3 and PynamoDB) through botocore's
    ``before-send`` event, which fires once per HTTP request, retries included."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def _hook(self, request, **kwargs) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        if isinstance(target, bytes):
            target = target.decode()
        name = target.split(".")[-1] if target else request.url.split("?")[0].rsplit("/", 2)[-2:]
        self.calls[str(name)] += 1

    def __enter__(self) -> "CallCounter":
        from chalicelib import aws

        aws.register_hook("before-send", self._hook)
        return self

    def __exit__(self, *exc) -> None:
        from chalicelib import aws

        aws.unregister_hook("before-send", self._hook)

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def reset(self) -> None:
        self.calls.clear()


@contextmanager
def counting() -> Iterator[CallCounter]:
    with CallCounter() as counter:
        yield counter


def per_call(fn: Callable[[], object], repeat: int, warmup: int = 2) -> float:
    """Median seconds per call over ``repeat`` runs."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def row(name: str, value: float, unit: str, target: str = "", ok: bool | None = None) -> dict:
    return {"name": name, "value": value, "unit": unit, "target": target, "ok": ok}
