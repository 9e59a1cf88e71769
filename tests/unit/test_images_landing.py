"""Upload validation and landing page rendering (pure)."""
import base64
import io
import struct
import zlib

import pytest

from chalicelib import images
from chalicelib.errors import DomainError
from chalicelib.livecodes import landing
from tests.support.images import png_b64, png_bytes


def test_valid_png_and_jpeg():
    assert images.from_base64(png_b64(), "image").format == "PNG"
    info = images.from_base64(png_b64(fmt="JPEG"), "image")
    assert (info.format, info.ext, info.content_type) == ("JPEG", "jpg", "image/jpeg")
    assert images.from_base64("data:image/png;base64," + png_b64(), "image").width == 64


def _png_header_only(width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + \
        chunk(b"IEND", b"")


@pytest.mark.parametrize("payload,code,status", [
    ("not base64!!", "validation-error", 400),
    (base64.b64encode(b"GIF89a" + b"\0" * 100).decode(), "invalid-image", 400),
    (base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 100).decode(), "invalid-image", 400),
    (base64.b64encode(png_bytes()[:-30]).decode(), "invalid-image", 400),
    (base64.b64encode(_png_header_only(5000, 10)).decode(), "image-too-large-dimensions", 400),
    (base64.b64encode(_png_header_only(60000, 60000)).decode(), None, 400),
    ("A" * (3 * 1024 * 1024), "image-too-large", 413),
    (12, "validation-error", 400),
])
def test_bad_images_are_refused(payload, code, status):
    with pytest.raises(DomainError) as err:
        images.from_base64(payload, "image")
    assert err.value.status == status
    if code:
        assert err.value.code == code


def test_gif_by_content_even_with_png_name():
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "GIF")
    with pytest.raises(DomainError):
        images.validate(out.getvalue(), "image")


def test_landing_escapes_operator_strings():
    html = landing.render_target("<script>alert(1)</script>", "group", '"><img src=x onerror=1>',
                                 "http://testserver/m/a/img/b.png")
    assert "<script>alert" not in html and "onerror=1>" not in html
    assert "&lt;script&gt;" in html and "长按识别二维码" in html
    assert 'name="viewport"' in html


def test_landing_has_no_external_resources():
    html = landing.render_target("活动", "staff", "客服", "http://testserver/m/a/img/b.png")
    import re
    srcs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert srcs == ["http://testserver/m/a/img/b.png"]


def test_unavailable_pages():
    assert "活动太火爆" in landing.render_unavailable("x", "no-target-available")
    assert "服务时间" in landing.render_unavailable("x", "outside-hours")
    assert "已停用" in landing.render_unavailable("x", "disabled")
    assert "已失效" in landing.render_not_found()
