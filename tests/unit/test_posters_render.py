"""Poster layout validation and rendering: pure, no AWS."""
import io

import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.posters import layout as lay
from chalicelib.posters import render
from tests.support.images import decode_qr, png_bytes

URL = "http://testserver/s/abcdefghijkmnpqr?ref=" + "a" * 34
MISSING = "\U00020BB7"  # 𠮷: CJK Extension B, not in the GB2312 subset


def _layout(**parts):
    return lay.parse_layout({"qr": {"x": 340, "y": 1300, "size": 400}, **parts}, 1080, 1920)


def _glyph(ch, size=64):
    f = render.font(size)
    mask = f.getmask(ch)
    return mask.size, bytes(mask)


def test_cjk_glyphs_are_real_and_differ_from_the_missing_glyph_box():
    notdef = _glyph(MISSING)
    assert ord(MISSING) not in render.coverage()
    for ch in "张伟鱼塘裂变海报邀请":
        assert ord(ch) in render.coverage()
        size, pixels = _glyph(ch)
        assert (size, pixels) != notdef, ch
        assert any(pixels), ch
    assert _glyph("鱼") != _glyph("塘")


def test_characters_the_font_lacks_degrade_gracefully():
    assert render.displayable("张" + MISSING) == "张*"
    assert render.displayable("小鱼🐟🐟") == "小鱼"
    assert render.displayable("Ａ ｂ   c") == "Ａ ｂ c"
    assert render.nickname_text("🐟🐟") == render.FALLBACK_NAME
    assert render.nickname_text(None) == render.FALLBACK_NAME
    for ch in render.displayable("张" + MISSING + "🐟é"):
        assert ord(ch) in render.coverage()


def test_long_names_end_in_an_ellipsis_within_max_width():
    name = "超长的微信昵称一直写下去永远也写不完"
    shown = render.fit(name, 40, 300)
    assert shown.endswith("…") and name.startswith(shown[:-1])
    assert render.font(40).getlength(shown) <= 300
    assert render.font(40).getlength(name[:len(shown)] + "…") > 300  # the longest prefix
    assert render.fit("李娜", 40, 300) == "李娜"
    assert render.fit("李娜", 40, 10) == ""


def test_nickname_pixels_stay_inside_their_box():
    from PIL import Image

    layout = _layout(nickname={"x": 100, "y": 100, "font_size": 48, "color": "#000000",
                               "max_width": 400})
    base = Image.new("RGB", (1080, 1920), (255, 255, 255))
    poster = render.decode(render.render_poster(base, layout, URL, "超长的微信昵称一直写下去永远也写不完",
                                                None, 90))
    region = poster.crop((0, 0, 1080, 1290)).convert("L").point(lambda v: 255 if v < 128 else 0)
    left, top, right, bottom = region.getbbox()
    assert left >= 100 and right <= 100 + 400 + 2
    assert top >= 100 and bottom <= 100 + lay.line_height(48)


def test_poster_qr_decodes_to_the_invite_url_and_size_budget_holds():
    layout = _layout(avatar={"x": 90, "y": 120, "size": 160},
                     nickname={"x": 280, "y": 150, "font_size": 56, "color": "#ffffff", "max_width": 700})
    noisy = _noisy_background()
    base_jpeg, quality = render.prepare_base(noisy, layout)
    avatar = render.prepare_avatar(png_bytes(300, 500))
    data = render.render_poster(render.decode(base_jpeg), layout, URL, "王小明", avatar, quality)
    assert data[:3] == b"\xff\xd8\xff" and len(data) <= render.MAX_POSTER_BYTES
    assert decode_qr(data) == [URL]


def test_the_prepared_canvas_is_not_modified_by_a_render():
    from PIL import Image

    base = Image.new("RGB", (1080, 1920), (30, 60, 90))
    before = base.tobytes()
    layout = _layout(avatar={"x": 90, "y": 120, "size": 160},
                     nickname={"x": 280, "y": 150, "font_size": 56, "color": "#ffffff", "max_width": 300})
    avatar = render.prepare_avatar(png_bytes(300, 500))
    first = render.render_poster(base, layout, URL, "gjpqy 张伟鱼塘超长超长超长的名字", avatar, 85)
    assert base.tobytes() == before
    assert render.render_poster(base, layout, URL, "gjpqy 张伟鱼塘超长超长超长的名字", avatar, 85) == first
    with pytest.raises(render.RenderError):  # a failing render restores the canvas too
        render.render_poster(base, _layout(qr={"x": 0, "y": 0, "size": 160}), URL + "x" * 300, "x",
                             None, 85)
    assert base.tobytes() == before


def test_prepare_avatar_crops_to_a_square():
    from PIL import Image

    img = Image.open(io.BytesIO(render.prepare_avatar(png_bytes(300, 700))))
    assert img.size == (300, 300)
    big = Image.open(io.BytesIO(render.prepare_avatar(png_bytes(1200, 900))))
    assert big.size == (render.AVATAR_SIDE, render.AVATAR_SIDE)


def test_too_small_qr_box_is_a_render_error():
    with pytest.raises(render.RenderError):
        render.qr_scale(URL + "x" * 300, 160)


def _noisy_background() -> bytes:
    import random

    from PIL import Image

    rng = random.Random(3)
    small = Image.frombytes("RGB", (270, 480), bytes(rng.randrange(256) for _ in range(270 * 480 * 3)))
    out = io.BytesIO()
    small.resize((1080, 1920), Image.BILINEAR).save(out, "JPEG", quality=95)
    return out.getvalue()


@pytest.mark.parametrize("data,code,field", [
    ({"qr": {"x": 0, "y": 0, "size": 400}, "nickname": {"x": 0, "y": 500, "font_size": 8,
                                                        "max_width": 100}},
     "validation-error", "layout.nickname.font_size"),
    ({"qr": {"x": 0, "y": 0, "size": 400}, "nickname": {"x": 0, "y": 500, "font_size": 40,
                                                        "max_width": 20}},
     "validation-error", "layout.nickname.max_width"),
    ({"qr": {"x": 0, "y": 1900, "size": 200}}, "layout-outside-canvas", "layout.qr"),
    ({"qr": {"x": -1, "y": 0, "size": 200}}, "validation-error", "layout.qr.x"),
    ({"qr": {"x": 0, "y": 0, "size": 400}, "texts": [{"text": "a", "x": 390, "y": 390,
                                                      "font_size": 20, "max_width": 50}]},
     "layout-overlaps-qr", "layout.texts[0]"),
    ({"qr": {"x": 0, "y": 0, "size": 400}, "texts": [{"text": "a", "x": 0, "y": 1900,
                                                      "font_size": 20, "max_width": 50}]},
     "layout-outside-canvas", "layout.texts[0]"),
    ({"qr": {"x": 0, "y": 0, "size": 400}, "texts": [{"text": "a", "x": 0, "y": 500, "font_size": 20,
                                                      "max_width": 50}] * 11},
     "validation-error", "texts"),
])
def test_layout_validation(data, code, field):
    with pytest.raises(ValidationFailed) as exc:
        lay.parse_layout(data, 1080, 1920)
    assert (exc.value.code, exc.value.field) == (code, field)


def test_layout_round_trips():
    data = {"qr": {"x": 340, "y": 1300, "size": 400},
            "avatar": {"x": 90, "y": 120, "size": 160, "shape": "square"},
            "nickname": {"x": 280, "y": 150, "font_size": 56, "color": "#FFF", "max_width": 700},
            "texts": [{"text": "扫码助力", "x": 90, "y": 400, "font_size": 52, "color": "#fff8e0",
                       "max_width": 900, "align": "center"}]}
    parsed = lay.parse_layout(data, 1080, 1920)
    assert parsed.nickname.color == "#ffffff" and parsed.nickname.align == "left"
    assert lay.from_dict(parsed.to_dict(), 1080, 1920) == parsed


def test_a_participant_without_avatar_gets_the_default_one_not_a_hole():
    """The avatar box of a poster without avatar shows the neutral silhouette (issue 12), not the
    background it would otherwise leave."""
    from PIL import Image

    layout = _layout(avatar={"x": 90, "y": 120, "size": 160, "shape": "square"})
    background = Image.new("RGB", (1080, 1920), (200, 30, 60))
    out = io.BytesIO()
    background.save(out, "JPEG", quality=95)
    base_jpeg, quality = render.prepare_base(out.getvalue(), layout)
    poster = render.decode(render.render_poster(render.decode(base_jpeg), layout, URL, "王", None,
                                                quality))
    box = poster.crop((90, 120, 250, 280))
    expected = render.default_avatar(160)
    diff = sum(abs(a - b) for p, q in zip(box.getdata(), expected.getdata(), strict=True) for a, b in zip(p, q, strict=True))
    assert diff / (160 * 160 * 3) < 6  # the silhouette, up to JPEG noise
    head = box.getpixel((80, 55))
    corner = box.getpixel((5, 5))
    assert abs(head[0] - 176) < 12 and abs(corner[0] - 228) < 12  # figure on its light ground
    assert abs(poster.getpixel((60, 60))[0] - 200) < 12  # the background around it is untouched
