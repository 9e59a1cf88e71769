"""Coupon codes (pure): generated codes are distinct by construction and follow their pattern;
uploads and patterns are checked with named errors."""
from __future__ import annotations

import pytest

from chalicelib.coupons import codes
from chalicelib.errors import ValidationFailed


def test_the_permutation_is_a_bijection():
    for secret in (b"a", b"b"):
        assert sorted(codes.permute(secret, i, 12) for i in range(4096)) == list(range(4096))


def test_generated_codes_fill_the_pattern_and_never_repeat():
    made = [codes.generate("k1", "VIP-######", i) for i in range(20_000)]
    assert len(set(made)) == len(made)
    assert all(c.startswith("VIP-") and len(c) == 10 for c in made)
    assert all(set(c[4:]) <= set(codes.ALPHABET) for c in made)
    assert made[:5] != [codes.generate("k2", "VIP-######", i) for i in range(5)]  # keyed
    assert codes.generate("k1", "VIP-######", 7) == made[7]  # deterministic


@pytest.mark.parametrize("pattern", ["VIP-#####", "VIP", "vip-######", "A-" + "#" * 18,
                                     "A#######B#", 5, "X" * 30 + "######"])
def test_bad_patterns_are_refused(pattern):
    with pytest.raises(ValidationFailed) as err:
        codes.check_pattern(pattern)
    assert err.value.code == "invalid-coupon-pattern"


@pytest.mark.parametrize("value, code", [
    ([], "invalid-coupon-codes"), ("ABCD", "invalid-coupon-codes"),
    (["ok-1234", "no spaces"], "invalid-coupon-codes"), (["abc"], "invalid-coupon-codes"),
    (["SAME1", " SAME1"], "duplicate-coupon-code")])
def test_bad_uploads_are_refused(value, code):
    with pytest.raises(ValidationFailed) as err:
        codes.check_codes(value)
    assert err.value.code == code


def test_the_code_fills_the_placeholder_or_follows_the_text():
    assert codes.fill("券码 {coupon} 今日有效", "X1") == "券码 X1 今日有效"
    assert codes.fill("下单立减", "X1") == "下单立减\nX1"
    assert codes.fill(None, "X1") == "X1"
