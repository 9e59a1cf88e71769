"""A simple significance figure for A/B arms (pure): the two-proportion z-test of each arm's
conversion rate against the first arm's, with its two-sided p-value."""
from __future__ import annotations

import math


def z_test(conv_a: int, n_a: int, conv_b: int, n_b: int) -> dict | None:
    """``{z, p_value}`` of B against A, or None when either arm is empty or nothing varies."""
    if n_a <= 0 or n_b <= 0:
        return None
    pooled = (conv_a + conv_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return None
    z = (conv_b / n_b - conv_a / n_a) / se
    return {"z": round(z, 3), "p_value": round(math.erfc(abs(z) / math.sqrt(2)), 4)}


def rate(conversions: int, people: int) -> float | None:
    return round(conversions / people, 4) if people else None
