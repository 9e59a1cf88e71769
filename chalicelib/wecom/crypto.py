"""The WXBizMsgCrypt scheme 企业微信 uses for callbacks (pure functions, no I/O).

- ``msg_signature = sha1("".join(sorted([token, timestamp, nonce, encrypt])))`` (hex);
- ``encrypt = base64(AES-256-CBC(key, iv=key[:16], pkcs7_32(random16 + len4_be + msg + receiveid)))``
  with ``key = base64decode(EncodingAESKey + "=")`` and ``receiveid`` the corp id.

Verified against the official sample vectors (token "QDG6eK", corp id "wx5823bf96d3bd56c7"); see
tests/unit/test_wecom_crypto.py. ``cryptography`` is imported inside the functions that need it.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct
from dataclasses import dataclass
from xml.etree import ElementTree

from chalicelib.error_codes import (
    INVALID_AES_KEY,
    INVALID_MESSAGE,
    INVALID_RECEIVER,
    INVALID_SIGNATURE,
    INVALID_XML,
)

BLOCK = 32  # WXBizMsgCrypt pads to 32-byte blocks (not AES's 16)
AES_KEY_RE = re.compile(r"^[A-Za-z0-9+/]{43}$")
MAX_XML_BYTES = 64 * 1024


class CryptoError(ValueError):
    """A callback failed verification or decryption (bad signature, key, padding, receiver)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def aes_key(encoding_aes_key: str) -> bytes:
    if not AES_KEY_RE.match(encoding_aes_key or ""):
        raise CryptoError("EncodingAESKey must be 43 base64 characters", INVALID_AES_KEY)
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("EncodingAESKey is not valid base64", INVALID_AES_KEY) from None
    if len(key) != 32:
        raise CryptoError("EncodingAESKey must decode to 32 bytes", INVALID_AES_KEY)
    return key


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


def verify_signature(token: str, timestamp: str, nonce: str, encrypt: str, msg_signature: str) -> None:
    expected = signature(token, timestamp, nonce, encrypt)
    if not hmac.compare_digest(expected, (msg_signature or "").lower()):
        raise CryptoError("msg_signature does not match", INVALID_SIGNATURE)


def _cipher(key: bytes):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def encrypt(encoding_aes_key: str, receive_id: str, message: str, random16: bytes | None = None) -> str:
    key = aes_key(encoding_aes_key)
    body = message.encode()
    raw = (random16 or os.urandom(16)) + struct.pack(">I", len(body)) + body + receive_id.encode()
    pad = BLOCK - len(raw) % BLOCK
    raw += bytes([pad]) * pad
    enc = _cipher(key).encryptor()
    return base64.b64encode(enc.update(raw) + enc.finalize()).decode()


def decrypt(encoding_aes_key: str, receive_id: str, encrypted: str) -> str:
    """The plaintext message; raises CryptoError unless it decrypts and names ``receive_id``."""
    key = aes_key(encoding_aes_key)
    try:
        data = base64.b64decode(encrypted or "", validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("the encrypted message is not base64", INVALID_MESSAGE) from None
    if not data or len(data) % 16:
        raise CryptoError("the encrypted message has a bad length", INVALID_MESSAGE)
    dec = _cipher(key).decryptor()
    raw = dec.update(data) + dec.finalize()
    pad = raw[-1]
    if not 1 <= pad <= BLOCK or raw[-pad:] != bytes([pad]) * pad or len(raw) - pad < 20:
        raise CryptoError("the message does not decrypt (wrong EncodingAESKey?)", INVALID_MESSAGE)
    raw = raw[:-pad]
    (length,) = struct.unpack(">I", raw[16:20])
    if 20 + length > len(raw):
        raise CryptoError("the decrypted message length is inconsistent", INVALID_MESSAGE)
    if not hmac.compare_digest(raw[20 + length:], receive_id.encode()):
        raise CryptoError("the message was encrypted for another corp id", INVALID_RECEIVER)
    try:
        return raw[20:20 + length].decode()
    except UnicodeDecodeError:
        raise CryptoError("the decrypted message is not UTF-8", INVALID_MESSAGE) from None


# ---- XML ----------------------------------------------------------------------------------------

def parse_xml(data: bytes | str) -> dict[str, str | list[str]]:
    """A callback XML document as {tag: text}; an element with children (``MemChangeList`` of
    ``Item``s) becomes the list of their texts.

    DTDs are refused outright (no entity expansion, no external entities)."""
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > MAX_XML_BYTES:
        raise CryptoError(f"the XML body is larger than {MAX_XML_BYTES} bytes", INVALID_XML)
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise CryptoError("XML with a DTD is not accepted", INVALID_XML)
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as exc:
        raise CryptoError(f"the body is not XML: {exc}", INVALID_XML) from None
    out: dict[str, str | list[str]] = {}
    for element in root:
        if len(element):
            out[element.tag] = [(item.text or "").strip() for item in element]
        else:
            out[element.tag] = (element.text or "").strip()
    return out


def to_xml(fields: dict[str, object]) -> str:
    """A flat XML document in 企业微信's style (strings in CDATA, numbers bare)."""
    parts = ["<xml>"]
    for tag, value in fields.items():
        if isinstance(value, list):
            items = "".join(f"<Item><![CDATA[{v}]]></Item>" for v in value)
            parts.append(f"<{tag}>{items}</{tag}>")
        elif isinstance(value, int):
            parts.append(f"<{tag}>{value}</{tag}>")
        else:
            text = str(value).replace("]]>", "]]]]><![CDATA[>")
            parts.append(f"<{tag}><![CDATA[{text}]]></{tag}>")
    parts.append("</xml>")
    return "".join(parts)


@dataclass(frozen=True)
class SignedCallback:
    """What 企业微信 sends: query parameters and the XML body."""

    msg_signature: str
    timestamp: str
    nonce: str
    body: str

    @property
    def query(self) -> dict[str, str]:
        return {"msg_signature": self.msg_signature, "timestamp": self.timestamp, "nonce": self.nonce}


def seal_callback(token: str, encoding_aes_key: str, corp_id: str, message_xml: str, timestamp: str,
                  nonce: str) -> SignedCallback:
    """Encrypt and sign a message as 企业微信 does (the fake server and tests use it)."""
    encrypted = encrypt(encoding_aes_key, corp_id, message_xml)
    body = to_xml({"ToUserName": corp_id, "AgentID": "", "Encrypt": encrypted})
    return SignedCallback(signature(token, timestamp, nonce, encrypted), timestamp, nonce, body)
