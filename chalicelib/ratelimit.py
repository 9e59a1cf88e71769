"""An in-container guard for public endpoints: token buckets per client IP and per public key
(a live code slug, a poster ref...). Zero AWS calls, so the scan budget holds.

Scope, deliberately: each Lambda container guards itself; API Gateway's stage throttling (infra/)
is the global ceiling. A client hammering one code from one IP is slowed down at once; a botnet is
the gateway's (and WAF's) job.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

MAX_KEYS = 10_000  # bounded memory: least recently seen keys are forgotten first


class Buckets:
    def __init__(self, rate_per_second: float, burst: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate_per_second, burst, clock
        self._state: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, key: str) -> tuple[bool, float]:
        """(allowed, seconds until a token is available)."""
        now = self.clock()
        tokens, last = self._state.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1
        if allowed:
            tokens -= 1
        self._state[key] = (tokens, now)
        if len(self._state) > MAX_KEYS:
            self._state.popitem(last=False)
        return allowed, 0.0 if allowed else (1 - tokens) / self.rate


    def wait(self, key: str) -> float:
        """Seconds until ``key`` has a token (0: it has one now); consumes nothing."""
        now = self.clock()
        tokens, last = self._state.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate


class PublicGuard:
    def __init__(self, per_ip_per_minute: int, per_key_per_second: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ip = Buckets(per_ip_per_minute / 60, max(per_ip_per_minute / 4, 5), clock)
        self.key = Buckets(per_key_per_second, per_key_per_second * 2, clock)

    def check(self, ip: str, key: str | None) -> float | None:
        """None when allowed, else the seconds to wait."""
        ok, wait = self.ip.allow(ip or "-")
        if not ok:
            return wait
        if key:
            ok, wait = self.key.allow(key)
            if not ok:
                return wait
        return None
