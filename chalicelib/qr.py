"""QR images (PNG and SVG): size, colours, optional centre logo — the one encoder, shared by live
codes and posters. Pure; Pillow and qrcode are imported inside the functions so the scan path
never loads them.

Speed: qrcode's automatic mask choice scores all eight masks (~7x the cost of the encoding itself),
so a fixed mask is used — every mask is valid per ISO 18004 and the renders are cached in S3 anyway.
Pixels are drawn as a one-pixel-per-module palette image scaled up with NEAREST, not module by
module.
"""
from __future__ import annotations

import base64
import io
import re
from functools import lru_cache
from typing import NamedTuple

from chalicelib.error_codes import INVERTED_COLORS, LOW_CONTRAST, SIZE_TOO_SMALL
from chalicelib.errors import ValidationFailed

MIN_SIZE, MAX_SIZE = 128, 2048
QUIET_ZONE = 4  # modules, as the standard asks
MIN_CONTRAST = 4.0
MASK = 4
_HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


class QrStyle(NamedTuple):
    size: int = 512
    fg: tuple[int, int, int] = (0, 0, 0)
    bg: tuple[int, int, int] = (255, 255, 255)
    fmt: str = "png"

    def cache_name(self, text: str, logo_key: str | None) -> str:
        import hashlib

        parts = f"{text}|{self.size}|{self.fg}|{self.bg}|{logo_key or ''}|m{MASK}|v3"
        return f"{hashlib.sha256(parts.encode()).hexdigest()[:32]}.{self.fmt}"


def parse_color(value: str, field: str) -> tuple[int, int, int]:
    match = _HEX.match(value.strip())
    if not match:
        raise ValidationFailed(f"'{field}' must be a hex colour like 000000 or #1a2b3c", field=field)
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return tuple(int(digits[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(fg: tuple[int, int, int], bg: tuple[int, int, int]) -> float:
    lf, lb = _luminance(fg), _luminance(bg)
    hi, lo = max(lf, lb), min(lf, lb)
    return (hi + 0.05) / (lo + 0.05)


def parse_style(params: dict) -> QrStyle:
    fmt = params.get("format", "png")
    if fmt not in ("png", "svg"):
        raise ValidationFailed("'format' must be png or svg", field="format")
    size_raw = params.get("size", "512")
    if not str(size_raw).isdigit() or not MIN_SIZE <= int(size_raw) <= MAX_SIZE:
        raise ValidationFailed(f"'size' must be an integer from {MIN_SIZE} to {MAX_SIZE}", field="size")
    fg = parse_color(params.get("fg", "000000"), "fg")
    bg = parse_color(params.get("bg", "ffffff"), "bg")
    if contrast_ratio(fg, bg) < MIN_CONTRAST:
        raise ValidationFailed(
            f"fg and bg have a contrast ratio of {contrast_ratio(fg, bg):.1f}; at least "
            f"{MIN_CONTRAST} is needed for phones to scan it", code=LOW_CONTRAST, field="fg")
    if _luminance(fg) > _luminance(bg):
        raise ValidationFailed("the foreground must be darker than the background: many WeChat "
                               "scanners cannot read inverted codes", code=INVERTED_COLORS, field="fg")
    return QrStyle(size=int(size_raw), fg=fg, bg=bg, fmt=fmt)


@lru_cache(maxsize=64)
def _version(length: int, level: int) -> int:
    """The smallest version holding ``length`` bytes at ``level`` (a deployment's URLs share a few
    lengths, so this search runs once per length, not per code)."""
    import qrcode

    code = qrcode.QRCode(error_correction=level, border=0)
    code.add_data(qrcode.util.QRData(b"h" * length, mode=qrcode.util.MODE_8BIT_BYTE))
    code.make(fit=True)
    return code.version


def modules(text: str, with_logo: bool = False) -> list[list[bool]]:
    """The symbol's modules without quiet zone: byte mode, level M (H under a logo), a fixed mask
    and the version looked up once per length — choosing version and mask per code is most of
    qrcode's cost. Live code QR images and poster QR boxes both come from here."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_M

    level = ERROR_CORRECT_H if with_logo else ERROR_CORRECT_M
    data = text.encode("utf-8")
    code = qrcode.QRCode(version=_version(len(data), level), error_correction=level, border=0,
                         mask_pattern=MASK)
    code.add_data(qrcode.util.QRData(data, mode=qrcode.util.MODE_8BIT_BYTE))
    code.make(fit=False)
    return code.modules


def matrix(text: str, with_logo: bool) -> list[list[bool]]:
    """The modules with the standard's 4-module quiet zone around them."""
    inner = modules(text, with_logo)
    width = len(inner) + 2 * QUIET_ZONE
    blank, side = [False] * width, [False] * QUIET_ZONE
    return ([blank] * QUIET_ZONE + [side + list(row) + side for row in inner]
            + [blank] * QUIET_ZONE)


def _scale(modules: int, size: int) -> int:
    scale = size // modules
    if scale < 2:
        raise ValidationFailed(f"size {size} is too small for this code ({modules} modules with quiet "
                               f"zone); use at least {modules * 2}", code=SIZE_TOO_SMALL, field="size")
    return scale


def render_png(text: str, style: QrStyle, logo: bytes | None = None) -> bytes:
    from PIL import Image

    m = matrix(text, logo is not None)
    n = len(m)
    scale = _scale(n, style.size)
    small = Image.frombytes("P", (n, n), bytes(1 if v else 0 for row in m for v in row))
    palette = list(style.bg) + list(style.fg)
    canvas = Image.new("P", (style.size, style.size), 0)
    canvas.putpalette(palette)
    offset = (style.size - n * scale) // 2
    canvas.paste(small.resize((n * scale, n * scale), Image.Resampling.NEAREST), (offset, offset))
    if logo is not None:
        canvas = canvas.convert("RGB")
        _paste_logo(canvas, logo, n * scale, offset, scale, style.bg)
    out = io.BytesIO()
    canvas.save(out, format="PNG", compress_level=6 if logo is None else 3)
    return out.getvalue()


def _logo_box(symbol_px: int, scale: int) -> int:
    return max(int(symbol_px * 0.2) // scale * scale, scale * 3)


def _paste_logo(canvas, logo: bytes, symbol_px: int, offset: int, scale: int,
                bg: tuple[int, int, int]) -> None:
    from PIL import Image, ImageDraw

    box = _logo_box(symbol_px, scale)
    pad = scale
    with Image.open(io.BytesIO(logo)) as src:
        mark = src.convert("RGBA")
        mark.thumbnail((box - 2 * pad, box - 2 * pad), Image.Resampling.LANCZOS)
    x0 = offset + (symbol_px - box) // 2
    ImageDraw.Draw(canvas).rounded_rectangle((x0, x0, x0 + box - 1, x0 + box - 1), radius=box // 8,
                                             fill=bg)
    canvas.paste(mark, (x0 + (box - mark.width) // 2, x0 + (box - mark.height) // 2), mark)


def render_svg(text: str, style: QrStyle, logo: bytes | None = None,
               logo_type: str = "image/png") -> str:
    m = matrix(text, logo is not None)
    n = len(m)
    scale = _scale(n, style.size)
    offset = (style.size - n * scale) // 2
    fg = "#{:02x}{:02x}{:02x}".format(*style.fg)
    bg = "#{:02x}{:02x}{:02x}".format(*style.bg)
    runs = []
    for y, row in enumerate(m):
        x = 0
        while x < n:
            if row[x]:
                start = x
                while x < n and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{style.size}" height="{style.size}" '
             f'viewBox="0 0 {style.size} {style.size}" shape-rendering="crispEdges">',
             f'<rect width="{style.size}" height="{style.size}" fill="{bg}"/>',
             f'<path transform="translate({offset} {offset}) scale({scale})" fill="{fg}" '
             f'd="{"".join(runs)}"/>']
    if logo is not None:
        box = _logo_box(n * scale, scale)
        x0 = offset + (n * scale - box) // 2
        inner = box - 2 * scale
        data = base64.b64encode(logo).decode()
        parts.append(f'<rect x="{x0}" y="{x0}" width="{box}" height="{box}" rx="{box // 8}" '
                     f'fill="{bg}"/>')
        parts.append(f'<image x="{x0 + scale}" y="{x0 + scale}" width="{inner}" height="{inner}" '
                     f'preserveAspectRatio="xMidYMid meet" href="data:{logo_type};base64,{data}"/>')
    parts.append("</svg>")
    return "".join(parts)
