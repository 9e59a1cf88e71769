"""Password hashing and rules (pure; standard library only).

Hashing is scrypt (memory-hard, RFC 7914) through ``hashlib.scrypt`` — OpenSSL's implementation,
the same one ``cryptography``'s ``Scrypt`` wraps, without importing ``cryptography``. The default
cost is N=2^15, r=8, p=3: 32 MiB of memory per hash and about 0.3 s of CPU, one of the
configurations OWASP's Password Storage Cheat Sheet lists as equivalent to its scrypt minimum
(N=2^17, r=8, p=1) while needing a quarter of the memory in a Lambda. ``YUTANG_SCRYPT`` ("N,r,p")
changes the cost of new hashes; every stored hash carries its own parameters, so raising the cost
later keeps old hashes verifiable (and they are re-hashed at the next login).

Stored form: ``scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>`` with a 16-byte random salt and a
32-byte derived key.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import NamedTuple

from chalicelib.error_codes import WEAK_PASSWORD
from chalicelib.errors import ValidationFailed

MIN_LENGTH = 10
MAX_LENGTH = 256  # bounds the work an attacker can ask of scrypt's input hashing
SALT_BYTES, KEY_BYTES = 16, 32
# Passwords of 10+ characters that every cracking list starts with.
COMMON = frozenset({
    "1234567890", "0123456789", "12345678910", "123456789a", "a123456789", "password12",
    "password123", "password1234", "qwertyuiop", "1q2w3e4r5t", "1qaz2wsx3edc", "iloveyou12",
    "abcdefghij", "abc1234567", "qwerty1234", "qwerty123456", "asdfghjkl1", "zxcvbnm123",
    "woaini1314", "woaini520", "aa12345678", "a1234567890", "1234567890a", "yutang1234",
})


class Cost(NamedTuple):
    n: int = 2 ** 15
    r: int = 8
    p: int = 3

    @classmethod
    def parse(cls, value: str | None) -> "Cost":
        if not value:
            return cls()
        n, r, p = (int(part) for part in value.split(","))
        if n < 2 or n & (n - 1) or r < 1 or p < 1:
            raise ValueError("YUTANG_SCRYPT must be 'N,r,p' with N a power of two")
        return cls(n, r, p)

    @property
    def memory(self) -> int:
        return 128 * self.r * self.n


def _derive(password: str, salt: bytes, cost: Cost) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=cost.n, r=cost.r, p=cost.p,
                          maxmem=cost.memory + 1024 * 1024, dklen=KEY_BYTES)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, cost: Cost | None = None) -> str:
    cost = cost or Cost()
    salt = os.urandom(SALT_BYTES)
    return f"scrypt${cost.n}${cost.r}${cost.p}${_b64(salt)}${_b64(_derive(password, salt, cost))}"


def stored_cost(stored: str) -> Cost | None:
    parts = (stored or "").split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        return Cost(int(parts[1]), int(parts[2]), int(parts[3]))
    except ValueError:
        return None


def verify_password(password: str, stored: str | None, dummy_cost: Cost | None = None) -> bool:
    """Constant-time check; a missing or malformed hash is checked against a dummy of the current
    cost so an unknown account costs the same time as a wrong password."""
    cost = stored_cost(stored or "")
    if cost is None or stored is None:
        _derive(password[:MAX_LENGTH], b"\0" * SALT_BYTES, dummy_cost or Cost())
        return False
    salt, expected = (_unb64(part) for part in stored.split("$")[4:6])
    return hmac.compare_digest(_derive(password, salt, cost), expected)


def check_rules(password: object, email: str = "", field: str = "password") -> str:
    """The password if it may be used, else ValidationFailed ``weak-password`` naming the field."""
    if not isinstance(password, str):
        raise ValidationFailed(f"'{field}' must be a string", field=field, code=WEAK_PASSWORD)
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(f"'{field}' must be at least {MIN_LENGTH} characters", field=field,
                               code=WEAK_PASSWORD)
    if len(password) > MAX_LENGTH:
        raise ValidationFailed(f"'{field}' must be at most {MAX_LENGTH} characters", field=field,
                               code=WEAK_PASSWORD)
    lowered = password.lower()
    if lowered in COMMON or len(set(password)) < 4:
        raise ValidationFailed(f"'{field}' is too easy to guess", field=field, code=WEAK_PASSWORD)
    if email and (lowered == email.lower() or lowered == email.split("@")[0].lower()):
        raise ValidationFailed(f"'{field}' must not be the email address", field=field,
                               code=WEAK_PASSWORD)
    return password
