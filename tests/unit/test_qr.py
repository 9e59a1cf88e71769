"""QR rendering decodes with an independent decoder (zxing-cpp) in every variant."""
import pytest

from chalicelib import qr
from chalicelib.errors import ValidationFailed
from tests.support.images import decode_qr, decode_svg, png_bytes

URL = "https://yutang.example.com/s/8hxjic57pkesyrax"


@pytest.mark.parametrize("size", [128, 256, 512, 1000, 2048])
def test_png_sizes_decode(size):
    data = qr.render_png(URL, qr.QrStyle(size=size))
    assert decode_qr(data) == [URL]
    import io

    from PIL import Image
    assert Image.open(io.BytesIO(data)).size == (size, size)


@pytest.mark.parametrize("fg,bg", [((0, 0, 0), (255, 255, 255)), ((20, 60, 120), (255, 250, 230)),
                                   ((120, 0, 0), (230, 230, 230))])
def test_png_colours_decode(fg, bg):
    assert decode_qr(qr.render_png(URL, qr.QrStyle(size=300, fg=fg, bg=bg))) == [URL]


@pytest.mark.parametrize("size", [200, 512, 1024])
def test_png_with_logo_decodes(size):
    logo = png_bytes(300, 300, (220, 30, 30))
    assert decode_qr(qr.render_png(URL, qr.QrStyle(size=size), logo)) == [URL]


def test_jpeg_logo_and_wide_logo_decode():
    logo = png_bytes(400, 100, (0, 160, 80), fmt="JPEG")
    assert decode_qr(qr.render_png(URL, qr.QrStyle(size=400), logo)) == [URL]


@pytest.mark.parametrize("logo", [None, png_bytes(50, 50)])
def test_svg_decodes(logo):
    svg = qr.render_svg(URL, qr.QrStyle(size=400, fmt="svg", fg=(30, 30, 90)), logo)
    assert svg.startswith("<svg") and 'width="400"' in svg
    assert decode_svg(svg, 400) == [URL]


def test_many_urls_decode_with_the_fixed_mask():
    for i in range(40):
        url = f"https://x.example/s/{i:08d}abcdefgh?ref=r{i * 7919}"
        assert decode_qr(qr.render_png(url, qr.QrStyle(size=256))) == [url]


def test_cjk_and_long_text():
    text = "https://例子.测试/s/鱼塘?ref=" + "x" * 200
    assert decode_qr(qr.render_png(text, qr.QrStyle(size=800))) == [text]


@pytest.mark.parametrize("params,code", [
    ({"size": "127"}, "validation-error"), ({"size": "2049"}, "validation-error"),
    ({"size": "abc"}, "validation-error"), ({"format": "gif"}, "validation-error"),
    ({"fg": "zzz"}, "validation-error"), ({"fg": "777777", "bg": "888888"}, "low-contrast"),
    ({"fg": "ffffff", "bg": "000000"}, "inverted-colors"),
])
def test_bad_styles_are_refused(params, code):
    with pytest.raises(ValidationFailed) as err:
        qr.parse_style(params)
    assert err.value.code == code


def test_style_parsing_and_short_hex():
    style = qr.parse_style({"size": "300", "fg": "#123", "bg": "fff", "format": "svg"})
    assert style == qr.QrStyle(size=300, fg=(0x11, 0x22, 0x33), bg=(255, 255, 255), fmt="svg")


def test_too_small_for_long_content():
    with pytest.raises(ValidationFailed) as err:
        qr.render_png("x" * 900, qr.QrStyle(size=128))
    assert err.value.code == "size-too-small"


def test_cache_name_depends_on_every_parameter():
    base = qr.QrStyle()
    names = {base.cache_name(URL, None), base.cache_name(URL + "x", None), base.cache_name(URL, "k"),
             qr.QrStyle(size=300).cache_name(URL, None), qr.QrStyle(fg=(1, 1, 1)).cache_name(URL, None),
             qr.QrStyle(fmt="svg").cache_name(URL, None)}
    assert len(names) == 6
