"""Token buckets for the public endpoints (pure, with a fake clock)."""
from chalicelib.ratelimit import Buckets, PublicGuard


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_burst_then_refill():
    clock = Clock()
    b = Buckets(rate_per_second=1, burst=3, clock=clock)
    assert [b.allow("a")[0] for _ in range(4)] == [True, True, True, False]
    ok, wait = b.allow("a")
    assert not ok and 0 < wait <= 1
    clock.t += 1
    assert b.allow("a")[0] and not b.allow("a")[0]


def test_keys_are_independent():
    b = Buckets(rate_per_second=1, burst=1, clock=Clock())
    assert b.allow("a")[0] and b.allow("b")[0] and not b.allow("a")[0]


def test_guard_limits_ip_and_key():
    clock = Clock()
    guard = PublicGuard(per_ip_per_minute=60, per_key_per_second=2, clock=clock)
    results = [guard.check("1.1.1.1", "code") for _ in range(20)]
    assert results[0] is None and any(r is not None for r in results)
    assert guard.check("2.2.2.2", "other") is None
    clock.t += 60
    assert guard.check("1.1.1.1", "code") is None


def test_memory_is_bounded():
    from chalicelib import ratelimit

    b = Buckets(rate_per_second=1, burst=1, clock=Clock())
    for i in range(ratelimit.MAX_KEYS + 50):
        b.allow(str(i))
    assert len(b._state) == ratelimit.MAX_KEYS
