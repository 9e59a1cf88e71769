"""Media objects in the private bucket, named by content hash under the tenant's prefix.

Public pages reference media through ``/m/{tenant}/{folder}/{name}`` on the API's own host (no
third-party hosts on landing pages); the route streams the object from S3 with a long cache life.
"""
from __future__ import annotations

import hashlib
import re

from chalicelib import aws
from chalicelib.error_codes import MEDIA_NOT_FOUND
from chalicelib.errors import NotFound
from chalicelib.settings import get_settings

FOLDERS = ("img", "logo", "poster", "qr", "media")
_NAME = re.compile(r"^[a-z0-9]{8,64}\.(png|jpg|svg|mp4|mp3|pdf|bin)$")
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "svg": "image/svg+xml",
                 "mp4": "video/mp4", "mp3": "audio/mpeg", "pdf": "application/pdf",
                 "bin": "application/octet-stream"}


def object_key(tenant_id: str, folder: str, name: str) -> str:
    return f"t/{tenant_id}/{folder}/{name}"


def content_name(data: bytes, ext: str) -> str:
    return f"{hashlib.sha256(data).hexdigest()[:32]}.{ext}"


RENDER_CACHE_TAG = "yutang-cache=render"  # infra/ expires such objects; they are re-rendered on demand


def put(tenant_id: str, folder: str, data: bytes, ext: str, name: str | None = None,
        cache: bool = False) -> str:
    """Store an object; ``cache=True`` marks a render that may expire (infra/ lifecycle rule)."""
    key = object_key(tenant_id, folder, name or content_name(data, ext))
    extra = {"Tagging": RENDER_CACHE_TAG} if cache else {}
    aws.client("s3").put_object(Bucket=get_settings().bucket, Key=key, Body=data,
                                ContentType=CONTENT_TYPES.get(ext, "application/octet-stream"), **extra)
    return key


def get(key: str) -> bytes | None:
    s3 = aws.client("s3")
    try:
        return s3.get_object(Bucket=get_settings().bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None


def public_url(key: str | None) -> str | None:
    if not key:
        return None
    _, tenant_id, folder, name = key.split("/", 3)
    return f"{get_settings().public_url}/m/{tenant_id}/{folder}/{name}"


def read_public(tenant_id: str, folder: str, name: str) -> tuple[bytes, str]:
    if folder not in FOLDERS or not _NAME.match(name) or not re.fullmatch(r"[a-z0-9]{8}", tenant_id):
        raise NotFound("no such media", code=MEDIA_NOT_FOUND)
    data = get(object_key(tenant_id, folder, name))
    if data is None:
        raise NotFound("no such media", code=MEDIA_NOT_FOUND)
    return data, CONTENT_TYPES[name.rsplit(".", 1)[1]]
