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
