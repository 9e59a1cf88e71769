"""Small real images for tests."""
from __future__ import annotations

import base64
import io


def png_bytes(width: int = 64, height: int = 64, color=(10, 120, 200), fmt: str = "PNG") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, fmt)
    return out.getvalue()


def png_b64(width: int = 64, height: int = 64, color=(10, 120, 200), fmt: str = "PNG") -> str:
    return base64.b64encode(png_bytes(width, height, color, fmt)).decode()


def decode_qr(data: bytes) -> list[str]:
    import zxingcpp
    from PIL import Image

    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)).convert("RGB"))]


def decode_svg(svg: str, size: int) -> list[str]:
    """Rasterise our SVG subset (rect + one path of h/v runs + optional image) and decode it."""
    import re

    from PIL import Image, ImageDraw

    m = re.search(r'translate\((\d+) (\d+)\) scale\((\d+)\)" fill="#([0-9a-f]{6})" d="([^"]*)"', svg)
    bg = re.search(r'<rect width="\d+" height="\d+" fill="#([0-9a-f]{6})"', svg).group(1)
    ox, oy, scale, fg, d = int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4), m.group(5)
    img = Image.new("RGB", (size, size), "#" + bg)
    draw = ImageDraw.Draw(img)
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)", d):
        x, y, w = int(x), int(y), int(w)
        draw.rectangle((ox + x * scale, oy + y * scale, ox + (x + w) * scale - 1,
                        oy + (y + 1) * scale - 1), fill="#" + fg)
    logo = re.search(r'<rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"', svg)
    if logo:
        x, y, w, h = (int(g) for g in logo.groups())
        draw.rectangle((x, y, x + w, y + h), fill="#" + bg)
    out = io.BytesIO()
    img.save(out, "PNG")
    return decode_qr(out.getvalue())
