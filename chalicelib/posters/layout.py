"""A poster template's canvas and layout, parsed once and validated against the canvas. Pure.

Boxes are in canvas pixels with the origin at the top left. Every box must lie inside the canvas, and
nothing may be drawn over the QR box (a covered QR stops scanning). A text box is ``max_width`` wide
and ``line_height(font_size)`` tall, with ``x`` its left edge whatever the alignment.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from chalicelib import validate as v
from chalicelib.error_codes import LAYOUT_OUTSIDE_CANVAS, LAYOUT_OVERLAPS_QR
from chalicelib.errors import ValidationFailed

MIN_SIDE, MAX_SIDE = 240, 2160
MIN_QR = 160
MIN_FONT, MAX_FONT = 12, 200
MAX_TEXTS = 10
ALIGNS = ("left", "center", "right")
SHAPES = ("circle", "square")


def line_height(font_size: int) -> int:
    return math.ceil(font_size * 1.4)


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    def overlaps(self, other: Box) -> bool:
        return not (self.x + self.w <= other.x or other.x + other.w <= self.x
                    or self.y + self.h <= other.y or other.y + other.h <= self.y)


@dataclass(frozen=True)
class QrBox:
    x: int
    y: int
    size: int

    @property
    def box(self) -> Box:
        return Box(self.x, self.y, self.size, self.size)


@dataclass(frozen=True)
class AvatarBox:
    x: int
    y: int
    size: int
    shape: str = "circle"

    @property
    def box(self) -> Box:
        return Box(self.x, self.y, self.size, self.size)


@dataclass(frozen=True)
class TextBox:
    x: int
    y: int
    font_size: int
    color: str
    max_width: int
    align: str = "left"
    text: str | None = None  # static texts only; the nickname box takes the participant's name

    @property
    def box(self) -> Box:
        return Box(self.x, self.y, self.max_width, line_height(self.font_size))

    @property
    def rgb(self) -> tuple[int, int, int]:
        return tuple(int(self.color[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    qr: QrBox
    avatar: AvatarBox | None = None
    nickname: TextBox | None = None
    texts: tuple[TextBox, ...] = ()

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"qr": asdict(self.qr)}
        if self.avatar:
            out["avatar"] = asdict(self.avatar)
        if self.nickname:
            out["nickname"] = {k: val for k, val in asdict(self.nickname).items() if k != "text"}
        out["texts"] = [asdict(t) for t in self.texts]
        return out


def parse_canvas(data: dict, default: tuple[int, int] | None = None) -> tuple[int, int]:
    dw, dh = default or (None, None)
    width = v.integer(data, "width", required=dw is None, lo=MIN_SIDE, hi=MAX_SIDE, default=dw)
    height = v.integer(data, "height", required=dh is None, lo=MIN_SIDE, hi=MAX_SIDE, default=dh)
    return width, height


def parse_layout(value: Any, width: int, height: int) -> Layout:
    if not isinstance(value, dict):
        raise ValidationFailed("'layout' must be an object", field="layout")
    v.only_keys(value, ("qr", "avatar", "nickname", "texts"), "layout")
    qr = _qr(_obj(value, "qr", required=True))
    avatar = _avatar(_obj(value, "avatar")) if value.get("avatar") is not None else None
    nickname = _text(_obj(value, "nickname"), "layout.nickname", static=False) \
        if value.get("nickname") is not None else None
    raw_texts = v.list_(value, "texts", max_items=MAX_TEXTS) or []
    texts = tuple(_text(t, f"layout.texts[{i}]", static=True) for i, t in enumerate(raw_texts))
    layout = Layout(width, height, qr, avatar, nickname, texts)
    _check_inside(layout)
    return layout


def from_dict(data: dict, width: int, height: int) -> Layout:
    """Rebuild a stored (already validated) layout."""
    return parse_layout(data, width, height)


def _obj(value: dict, key: str, required: bool = False) -> dict:
    obj = value.get(key)
    if obj is None:
        raise ValidationFailed(f"'layout.{key}' is required", field=f"layout.{key}")
    if not isinstance(obj, dict):
        raise ValidationFailed(f"'layout.{key}' must be an object", field=f"layout.{key}")
    return obj


def _int(data: dict, key: str, where: str, lo: int = 0, hi: int = MAX_SIDE) -> int:
    try:
        return v.integer(data, key, required=True, lo=lo, hi=hi)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message.replace(f"'{key}'", f"'{where}.{key}'"),
                               field=f"{where}.{key}") from None


def _qr(data: dict) -> QrBox:
    v.only_keys(data, ("x", "y", "size"), "layout.qr")
    return QrBox(_int(data, "x", "layout.qr"), _int(data, "y", "layout.qr"),
                 _int(data, "size", "layout.qr", lo=MIN_QR))


def _avatar(data: dict) -> AvatarBox:
    v.only_keys(data, ("x", "y", "size", "shape"), "layout.avatar")
    shape = v.choice(data, "shape", SHAPES, default="circle")
    return AvatarBox(_int(data, "x", "layout.avatar"), _int(data, "y", "layout.avatar"),
                     _int(data, "size", "layout.avatar", lo=16), shape)


def _text(data: Any, where: str, static: bool) -> TextBox:
    if not isinstance(data, dict):
        raise ValidationFailed(f"'{where}' must be an object", field=where)
    keys = ("x", "y", "font_size", "color", "max_width", "align")
    v.only_keys(data, keys + (("text",) if static else ()), where)
    text = None
    if static:
        try:
            text = v.text(data, "text", required=True, max_len=100)
        except ValidationFailed as exc:
            raise ValidationFailed(exc.message.replace("'text'", f"'{where}.text'"),
                                   field=f"{where}.text") from None
    font_size = _int(data, "font_size", where, lo=MIN_FONT, hi=MAX_FONT)
    color = _color(data.get("color", "#000000"), f"{where}.color")
    align = v.choice(data, "align", ALIGNS, default="left")
    return TextBox(_int(data, "x", where), _int(data, "y", where), font_size, color,
                   _int(data, "max_width", where, lo=font_size), align, text)


def _color(value: Any, field: str) -> str:
    from chalicelib.qr import parse_color

    if not isinstance(value, str):
        raise ValidationFailed(f"'{field}' must be a hex colour like #1a2b3c", field=field)
    r, g, b = parse_color(value, field)
    return f"#{r:02x}{g:02x}{b:02x}"


def _check_inside(layout: Layout) -> None:
    named = [("layout.qr", layout.qr.box)]
    if layout.avatar:
        named.append(("layout.avatar", layout.avatar.box))
    if layout.nickname:
        named.append(("layout.nickname", layout.nickname.box))
    named += [(f"layout.texts[{i}]", t.box) for i, t in enumerate(layout.texts)]
    for name, box in named:
        if box.x + box.w > layout.width or box.y + box.h > layout.height:
            raise ValidationFailed(
                f"'{name}' ({box.x},{box.y} {box.w}x{box.h}) does not fit inside the "
                f"{layout.width}x{layout.height} canvas", code=LAYOUT_OUTSIDE_CANVAS, field=name)
    for name, box in named[1:]:
        if box.overlaps(layout.qr.box):
            raise ValidationFailed(f"'{name}' overlaps the QR box; a covered QR code stops scanning",
                                   code=LAYOUT_OVERLAPS_QR, field=name)
