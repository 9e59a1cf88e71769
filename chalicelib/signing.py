"""HMAC helpers for cookies, tokens and webhook signatures."""
from __future__ import annotations

import base64
import hashlib
import hmac


def sign(secret: str, message: str, length: int = 16) -> str:
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()[:length]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def verify(secret: str, message: str, signature: str, length: int = 16) -> bool:
    return hmac.compare_digest(sign(secret, message, length), signature or "")


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def derive_key(secret: str, purpose: str, length: int = 32) -> bytes:
    """HKDF-SHA256 (RFC 5869) of the deployment secret for one purpose, with the standard library
    only, so checking a session token never imports ``cryptography`` (cold start). Each purpose gets
    its own key: a token signed for one use can never verify as another."""
    prk = hmac.new(b"yutang-signing-v1", secret.encode(), hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + purpose.encode() + bytes([counter]), hashlib.sha256).digest()
        okm += block
        counter += 1
    return okm[:length]


def mac(key: bytes, message: str, length: int = 32) -> str:
    """URL-safe base64 HMAC-SHA256 of ``message`` under a derived key."""
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()[:length]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def mac_matches(key: bytes, message: str, signature: str, length: int = 32) -> bool:
    return hmac.compare_digest(mac(key, message, length), signature or "")
