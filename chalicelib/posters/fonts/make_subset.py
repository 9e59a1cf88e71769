"""Rebuild the bundled poster font: a subset of Noto Sans CJK SC (SIL OFL 1.1, see OFL.txt).

Dev tool, not imported by the app:  .venv/bin/python chalicelib/posters/fonts/make_subset.py [ttc]
Needs fontTools (requirements-dev.txt) and Debian's fonts-noto-cjk (or any Noto Sans CJK .ttc/.otf).

Coverage: every character of GB2312 (6,763 hanzi incl. the 3,755 level-1 common ones, plus its
punctuation, kana, Greek and Cyrillic), ASCII, Latin-1, general and CJK punctuation and full-width
forms: ~2.9 MB (adding Big5's common hanzi for traditional-script names would cost 1.2 MB more).
``NotoSansSC-Yutang.codepoints`` lists the covered code points (as hex ranges) so rendering can
tell, without fontTools, which characters the font lacks.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
OUT = HERE / "NotoSansSC-Yutang.otf"
CODEPOINTS = HERE / "NotoSansSC-Yutang.codepoints"
SC_FACE = "Noto Sans CJK SC"


def charset() -> set[int]:
    chars: set[int] = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100))
    chars |= set(range(0x2010, 0x2070)) | set(range(0x3000, 0x3040)) | set(range(0xFF01, 0xFF5F))
    chars |= {0x20AC, 0x2122, 0x2190, 0x2191, 0x2192, 0x2193, 0x2605, 0x2606, 0x25CF, 0x25CB}
    for codec, rows in (("gb2312", range(0xA1, 0xF8)),):
        for hi in rows:
            for lo in list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF)):
                try:
                    chars.add(ord(bytes((hi, lo)).decode(codec)))
                except (UnicodeDecodeError, TypeError):
                    pass
    return chars


def _ranges(points: list[int]) -> list[str]:
    out, start, prev = [], None, None
    for p in points + [None]:
        if start is not None and (p is None or p != prev + 1):  # type: ignore[operator]  # prev is set with start
            out.append(f"{start:x}" if start == prev else f"{start:x}-{prev:x}")
            start = None
        if p is not None and start is None:
            start = p
        prev = p
    return out


def main(source: str = SOURCE) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTCollection, TTFont

    if source.endswith(".ttc"):
        font = next(f for f in TTCollection(source).fonts if f["name"].getDebugName(1) == SC_FACE)
    else:
        font = TTFont(source)
    cmap = font.getBestCmap()
    wanted = sorted(c for c in charset() if c in cmap)
    options = subset.Options()
    options.hinting = False
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.layout_features = ["kern", "liga", "locl", "halt", "palt"]
    sub = subset.Subsetter(options)
    sub.populate(unicodes=wanted)
    sub.subset(font)
    font.save(str(OUT))
    CODEPOINTS.write_text("\n".join(_ranges(wanted)) + "\n")
    print(f"{OUT.name}: {len(wanted)} code points, {OUT.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main(*sys.argv[1:])
