"""Uploaded image validation: real PNG/JPEG by content, size and dimension limits, no bombs.

Pillow is imported inside the functions: the scan path never loads it.
"""
from __future__ import annotations

import base64
import binascii
import io
import warnings
from typing import NamedTuple

from chalicelib.error_codes import IMAGE_TOO_LARGE, IMAGE_TOO_LARGE_DIMENSIONS, INVALID_IMAGE
from chalicelib.errors import PayloadTooLarge, ValidationFailed

MAX_BYTES = 2 * 1024 * 1024
MAX_SIDE = 4096
FORMATS = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg")}


class ImageInfo(NamedTuple):
    data: bytes
    format: str
    width: int
    height: int

    @property
    def ext(self) -> str:
        return FORMATS[self.format][0]

    @property
    def content_type(self) -> str:
        return FORMATS[self.format][1]


def from_base64(value: object, field: str) -> ImageInfo:
    if not isinstance(value, str) or not value:
        raise ValidationFailed(f"'{field}' must be a base64-encoded PNG or JPEG", field=field)
    if value.startswith("data:"):
        value = value.partition(",")[2]
    if len(value) > MAX_BYTES * 4 // 3 + 8:
        raise PayloadTooLarge(f"'{field}' is larger than {MAX_BYTES // (1024 * 1024)} MB",
                              code=IMAGE_TOO_LARGE, field=field)
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(f"'{field}' is not valid base64", field=field) from None
    return validate(data, field)


def validate(data: bytes, field: str) -> ImageInfo:
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(f"'{field}' is larger than {MAX_BYTES // (1024 * 1024)} MB",
                              code=IMAGE_TOO_LARGE, field=field)
    if not data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        raise ValidationFailed(f"'{field}' is not a PNG or JPEG image", code=INVALID_IMAGE,
                               field=field)
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                fmt, (width, height) = img.format, img.size
                if fmt not in FORMATS:
                    raise ValidationFailed(f"'{field}' must be PNG or JPEG, not {fmt}",
                                           code=INVALID_IMAGE, field=field)
                if width > MAX_SIDE or height > MAX_SIDE or width < 1 or height < 1:
                    raise ValidationFailed(
                        f"'{field}' is {width}x{height}; each side must be at most {MAX_SIDE} px",
                        code=IMAGE_TOO_LARGE_DIMENSIONS, field=field)
                img.load()
    except ValidationFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationFailed(f"'{field}' decompresses to too many pixels", code=INVALID_IMAGE,
                               field=field) from None
    except Exception as exc:  # Pillow raises many types for corrupt data
        raise ValidationFailed(f"'{field}' could not be decoded as an image ({type(exc).__name__})",
                               code=INVALID_IMAGE, field=field) from None
    return ImageInfo(data, fmt, width, height)
