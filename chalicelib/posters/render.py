"""Poster rendering. Pure: bytes and a layout in, JPEG bytes out. Pillow and qrcode are imported
inside the functions, so nothing on the scan path loads them.

Speed (the budget is 2x the cost of JPEG-encoding the finished canvas): the background is prepared
once per template — decoded, fitted to the canvas, static texts drawn — and stored as a high-quality
JPEG whose decoded pixels the service keeps per container. A poster is then a copy of that canvas,
one QR pasted as a module-per-pixel image scaled with NEAREST, a small pre-cropped avatar, one line
of text and a single JPEG encode at a quality chosen for the template (so no re-encode loop).

Text uses the bundled Noto Sans SC subset (fonts/, SIL OFL). Characters it lacks are never drawn
as boxes: a compatibility form is used when one exists (full-width letters, circled digits...),
symbols and emoji are dropped, and a letter the font lacks (a rare hanzi) becomes "*", the usual
mask for a hidden character in a Chinese name. Text wider than its box ends in "…".
"""
from __future__ import annotations

import io
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

from chalicelib import qr
from chalicelib.posters.layout import AvatarBox, Layout, QrBox, TextBox
from chalicelib.qr import QUIET_ZONE

FONTS = Path(__file__).resolve().parent / "fonts"
FONT_PATH = FONTS / "NotoSansSC-Yutang.otf"
CODEPOINTS_PATH = FONTS / "NotoSansSC-Yutang.codepoints"
ELLIPSIS = "…"
MASK_CHAR = "*"
FALLBACK_NAME = "微信用户"
MAX_POSTER_BYTES = 300 * 1024
BASE_QUALITY = 95
QUALITIES = (88, 85, 82, 78, 74, 70, 65, 60, 55, 50, 45, 40, 35, 30, 25, 20)
DYNAMIC_ALLOWANCE = 48 * 1024  # room left for the QR, avatar and nickname in the size budget
AVATAR_SIDE = 320
SUPERSAMPLE = 4


_in_place = threading.Lock()  # renders draw on the shared canvas and restore it


class RenderError(Exception):
    """The inputs cannot make a poster (e.g. the QR box is too small for the invite URL)."""


# ---- fonts and text ------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def coverage() -> frozenset[int]:
    points: set[int] = set()
    for line in CODEPOINTS_PATH.read_text().split():
        lo, _, hi = line.partition("-")
        points.update(range(int(lo, 16), int(hi or lo, 16) + 1))
    return frozenset(points)


@lru_cache(maxsize=32)
def font(size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(str(FONT_PATH), size)


def displayable(text: str) -> str:
    """The text with every character the font lacks replaced, dropped or mapped (see module doc)."""
    covered = coverage()
    out = []
    for ch in text:
        if ord(ch) in covered:
            out.append(ch)
            continue
        if ch.isspace():
            out.append(" ")
            continue
        compat = unicodedata.normalize("NFKC", ch)
        if compat != ch and compat and all(ord(c) in covered for c in compat):
            out.append(compat)
        elif unicodedata.category(ch)[0] in "LN":
            out.append(MASK_CHAR)
        # else: emoji, symbols, joiners, variation selectors, combining marks: dropped
    return " ".join("".join(out).split())


def nickname_text(nickname: str | None) -> str:
    return displayable(nickname or "") or FALLBACK_NAME


def fit(text: str, size: int, max_width: int) -> str:
    """``text`` if it fits ``max_width`` pixels at ``size``, else its longest prefix plus "…"."""
    f = font(size)
    if f.getlength(text) <= max_width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix whose ellipsised width fits
        mid = (lo + hi + 1) // 2
        if f.getlength(text[:mid].rstrip() + ELLIPSIS) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + ELLIPSIS if lo else (ELLIPSIS if f.getlength(ELLIPSIS) <= max_width
                                                     else "")


def draw_text(canvas: Any, box: TextBox, text: str) -> None:
    from PIL import ImageDraw

    shown = fit(displayable(text) if box.text is not None else text, box.font_size, box.max_width)
    if not shown:
        return
    f = font(box.font_size)
    width = f.getlength(shown)
    x = {"left": 0, "center": (box.max_width - width) / 2, "right": box.max_width - width}[box.align]
    b = box.box
    region = canvas.crop((b.x, b.y, b.x + b.w, b.y + b.h))  # drawing is clipped to the box
    ImageDraw.Draw(region).text((x, b.h / 2), shown, font=f, fill=box.rgb, anchor="lm")
    canvas.paste(region, (b.x, b.y))


# ---- template preparation (once per template) ------------------------------------------------------

def prepare_base(background: bytes, layout: Layout) -> tuple[bytes, int]:
    """The template's canvas (background fitted to width x height, static texts drawn) as a
    high-quality JPEG, and the JPEG quality that keeps posters on it under the size budget."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(background)) as opened:
        rgb = _flatten(ImageOps.exif_transpose(opened))
    canvas = ImageOps.fit(rgb, (layout.width, layout.height), Image.Resampling.LANCZOS)
    for t in layout.texts:
        draw_text(canvas, t, t.text or "")
    return encode(canvas, BASE_QUALITY), choose_quality(canvas)


def _flatten(img: Any) -> Any:
    from PIL import Image

    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        white = Image.new("RGB", img.size, (255, 255, 255))
        white.paste(img, mask=img.getchannel("A"))
        return white
    return img.convert("RGB")


def choose_quality(canvas: Any) -> int:
    scaled_budget = (MAX_POSTER_BYTES - DYNAMIC_ALLOWANCE) * canvas.width * canvas.height \
        / (1080 * 1920)
    budget = min(MAX_POSTER_BYTES - DYNAMIC_ALLOWANCE, scaled_budget)
    for q in QUALITIES:
        if len(encode(canvas, q)) <= budget:
            return q
    return QUALITIES[-1]


def prepare_avatar(data: bytes) -> bytes:
    """A participant's avatar, centre-cropped to a square of at most AVATAR_SIDE px, as JPEG."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as src:
        img = _flatten(ImageOps.exif_transpose(src))
    side = min(img.size)
    img = ImageOps.fit(img, (min(side, AVATAR_SIDE),) * 2, Image.Resampling.LANCZOS)
    return encode(img, 90)


# ---- the poster -----------------------------------------------------------------------------------

def decode(data: bytes) -> Any:
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    img.load()
    return img.convert("RGB") if img.mode != "RGB" else img


def encode(img: Any, quality: int) -> bytes:
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def render_poster(base: Any, layout: Layout, invite_url: str, nickname: str | None,
                  avatar: bytes | None, quality: int) -> bytes:
    """One participant's poster on the template's prepared canvas ``base`` (a decoded RGB image,
    shared by the renders of a container). The participant's boxes are drawn on ``base`` itself and
    restored after the encode: saving three small regions is cheaper than copying the canvas."""
    boxes = [layout.qr.box]
    if layout.avatar is not None:
        boxes.append(layout.avatar.box)
    if layout.nickname is not None:
        boxes.append(layout.nickname.box)
    with _in_place:
        saved = [(b, base.crop((b.x, b.y, b.x + b.w, b.y + b.h))) for b in boxes]
        try:
            paste_qr(base, layout.qr, invite_url)
            if layout.avatar is not None:
                paste_avatar(base, layout.avatar, avatar)  # None: the default avatar
            if layout.nickname is not None:
                draw_text(base, layout.nickname, nickname_text(nickname))
            data = encode(base, quality)
            for q in (q for q in QUALITIES if q < quality):  # only for pathological avatars
                if len(data) <= MAX_POSTER_BYTES:
                    break
                data = encode(base, q)
        finally:
            for b, region in saved:
                base.paste(region, (b.x, b.y))
    return data


def qr_scale(invite_url: str, size: int) -> tuple[list[list[bool]], int]:
    m = qr.modules(invite_url)
    scale = size // (len(m) + 2 * QUIET_ZONE)
    if scale < 2:
        raise RenderError(f"a {size} px QR box is too small for the invite URL ({len(m)} modules "
                          f"and a quiet zone need at least {2 * (len(m) + 2 * QUIET_ZONE)} px)")
    return m, scale


def paste_qr(canvas: Any, box: QrBox, invite_url: str) -> None:
    from PIL import Image

    m, scale = qr_scale(invite_url, box.size)
    n = len(m)
    modules = Image.frombytes("L", (n, n), bytes(0 if cell else 255 for row in m for cell in row))
    canvas.paste((255, 255, 255), (box.x, box.y, box.x + box.size, box.y + box.size))
    offset = (box.size - n * scale) // 2  # the white box around the symbol is its quiet zone
    canvas.paste(modules.resize((n * scale, n * scale), Image.Resampling.NEAREST),
                 (box.x + offset, box.y + offset))


@lru_cache(maxsize=8)
def _circle_mask(size: int) -> Any:
    from PIL import Image, ImageDraw

    big = Image.new("L", (size * SUPERSAMPLE, size * SUPERSAMPLE), 0)
    ImageDraw.Draw(big).ellipse((0, 0, big.width - 1, big.height - 1), fill=255)
    return big.resize((size, size), Image.Resampling.LANCZOS)


@lru_cache(maxsize=8)
def default_avatar(size: int) -> Any:
    """A neutral silhouette for participants without an avatar (no hole in the poster)."""
    from PIL import Image, ImageDraw

    n = size * SUPERSAMPLE
    img = Image.new("RGB", (n, n), (228, 231, 235))
    draw = ImageDraw.Draw(img)
    fg = (176, 183, 192)
    draw.ellipse((n * 0.32, n * 0.17, n * 0.68, n * 0.53), fill=fg)  # head
    draw.ellipse((n * 0.14, n * 0.58, n * 0.86, n * 1.22), fill=fg)  # shoulders
    return img.resize((size, size), Image.Resampling.LANCZOS)


def paste_avatar(canvas: Any, box: AvatarBox, avatar: bytes | None) -> None:
    from PIL import Image, ImageOps

    if avatar is None:
        img = default_avatar(box.size)
    else:
        with Image.open(io.BytesIO(avatar)) as src:
            src.draft("RGB", (box.size, box.size))  # JPEG: decode at a reduced scale when possible
            img = ImageOps.fit(_flatten(src), (box.size, box.size), Image.Resampling.BILINEAR)
    mask = _circle_mask(box.size) if box.shape == "circle" else None
    canvas.paste(img, (box.x, box.y), mask)
