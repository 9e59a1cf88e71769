"""Coupon codes (pure): uploaded lists checked, and generated codes from a pattern.

A pattern is up to 32 characters of ``A-Z 0-9 -`` with a run of ``#`` (6 to 16, an even number)
that the code's characters fill, e.g. ``VIP-########``. Generated code *n* of a pool is a keyed
permutation (a 4-round Feistel network over ``5 × #`` bits with the pool's secret) of *n*, written
in Crockford base 32: codes are unique by construction (no lookup, no retry), look random, and the
next one cannot be guessed from those seen.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from chalicelib.error_codes import DUPLICATE_COUPON_CODE, INVALID_COUPON_CODES, INVALID_COUPON_PATTERN
from chalicelib.errors import ValidationFailed

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base 32
PATTERN = re.compile(r"^[A-Z0-9-]*#{6,16}[A-Z0-9-]*$")
CODE = re.compile(r"^[A-Za-z0-9_-]{4,64}$")
MAX_PATTERN = 32
MAX_UPLOAD = 1000
MAX_GENERATED = 1_000_000
ROUNDS = 4


def check_pattern(value: Any, field: str = "generate.pattern") -> str:
    if not isinstance(value, str) or len(value) > MAX_PATTERN or not PATTERN.match(value) \
            or value.count("#") % 2:
        raise ValidationFailed("a pattern is up to 32 characters of A-Z, 0-9 and - with one run "
                               "of 6-16 '#' (an even number), e.g. VIP-########",
                               code=INVALID_COUPON_PATTERN, field=field)
    return value


def capacity(pattern: str) -> int:
    return 2 ** (5 * pattern.count("#"))


def check_codes(value: Any, field: str = "codes") -> list[str]:
    """An uploaded list: 1-1000 distinct codes of 4-64 characters (A-Z a-z 0-9 _ -)."""
    if not isinstance(value, list) or not 0 < len(value) <= MAX_UPLOAD:
        raise ValidationFailed(f"'{field}' must be an array of 1-{MAX_UPLOAD} codes",
                               code=INVALID_COUPON_CODES, field=field)
    clean = [c.strip() if isinstance(c, str) else c for c in value]
    bad = next((c for c in clean if not isinstance(c, str) or not CODE.match(c)), None)
    if bad is not None:
        raise ValidationFailed(f"invalid code {str(bad)[:70]!r}: 4-64 characters of A-Z a-z 0-9 _ -",
                               code=INVALID_COUPON_CODES, field=field)
    if len(set(clean)) != len(clean):
        raise ValidationFailed(f"'{field}' holds a code twice", code=DUPLICATE_COUPON_CODE,
                               field=field)
    return clean


def _round(secret: bytes, n: int, half: int, value: int) -> int:
    digest = hmac.new(secret, f"{n}:{value}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % (1 << half)


def permute(secret: bytes, index: int, bits: int) -> int:
    """A bijection of ``range(2**bits)`` (``bits`` even) keyed by ``secret``."""
    half = bits // 2
    left, right = index >> half, index & ((1 << half) - 1)
    for n in range(ROUNDS):
        left, right = right, left ^ _round(secret, n, half, right)
    return (left << half) | right


def generate(secret: str, pattern: str, index: int) -> str:
    """Code ``index`` of a generated pool (distinct for every index below ``capacity``)."""
    width = pattern.count("#")
    value = permute(secret.encode(), index, 5 * width)
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 32)
        chars.append(ALPHABET[digit])
    start = pattern.index("#")
    return pattern[:start] + "".join(reversed(chars)) + pattern[start + width:]


def fill(text: str | None, code: str) -> str:
    """The message text with ``{coupon}`` replaced by the code (appended when it names none)."""
    if text and "{coupon}" in text:
        return text.replace("{coupon}", code)
    return f"{text}\n{code}" if text else code
