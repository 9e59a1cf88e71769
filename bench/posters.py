"""Fission poster benchmarks.

- Poster render (QR, avatar, CJK nickname on the template's prepared 1080x1920 canvas, JPEG out)
  against JPEG-encoding the same finished canvas alone at the same quality, in the same run. The
  target applies to a warm container (the prepared canvas decoded once per template and kept); the
  first render of a template in a container also decodes the canvas and is reported beside it.
- AWS calls of a poster request, cached and uncached (moto over HTTP, as `make dev` runs it).
- AWS calls the events consumer adds for a ref-carrying scan (new visitor counted, returning visitor,
  not counted), and on the scan request path itself (a ref adds none there).
"""
from __future__ import annotations

import io

from bench.common import counting, row

SIZES = {"small": {"repeat": 15}, "full": {"repeat": 80}}
LAYOUT = {"qr": {"x": 340, "y": 1300, "size": 400},
          "avatar": {"x": 90, "y": 120, "size": 160, "shape": "circle"},
          "nickname": {"x": 280, "y": 150, "font_size": 56, "color": "#ffffff", "max_width": 700},
          "texts": [{"text": "邀请 3 位好友，免费领取《私域增长》", "x": 90, "y": 400, "font_size": 52,
                     "color": "#fff8e0", "max_width": 900, "align": "center"},
                    {"text": "长按识别二维码 · 扫码助力", "x": 240, "y": 1740, "font_size": 40,
                     "color": "#ffffff", "max_width": 600, "align": "center"}]}
NICKNAME = "鱼塘里的小明同学"
INVITE_URL = "http://127.0.0.1:8000/s/abcdefghijkmnpqr?ref=" + "a" * 34


def background() -> bytes:
    """A photo-like background: gradient, shapes and mild grain, as a JPEG."""
    import random

    from PIL import Image, ImageDraw, ImageFilter

    img = Image.new("RGB", (1080, 1920))
    draw = ImageDraw.Draw(img)
    for y in range(1920):
        draw.line([(0, y), (1080, y)], fill=(200 - y // 20, 60 + y // 30, 90 + y // 25))
    rng = random.Random(7)
    for _ in range(30):
        x, y, r = rng.randrange(1080), rng.randrange(1920), rng.randrange(40, 160)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(rng.randrange(256), rng.randrange(256), 120))
    img = img.filter(ImageFilter.GaussianBlur(3))
    grain = Image.effect_noise((1080, 1920), 12).convert("RGB")
    img = Image.blend(img, grain, 0.06)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=92)
    return out.getvalue()


def avatar() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (640, 640), (30, 140, 220))
    ImageDraw.Draw(img).ellipse((120, 120, 520, 520), fill=(250, 220, 180))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def interleaved(fns: list, repeat: int) -> list[float]:
    """Median seconds per call of each function, sampled in turns so that the machine's load
    drifts over all of them alike (the floor and the render share every moment of the run)."""
    import statistics
    import time

    samples: list[list[float]] = [[] for _ in fns]
    for i in range(repeat + 2):
        for fn, out in zip(fns, samples, strict=True):
            start = time.perf_counter()
            fn()
            if i >= 2:
                out.append(time.perf_counter() - start)
    return [statistics.median(s) for s in samples]


def render_rows(repeat: int) -> list[dict]:
    from chalicelib.posters import layout as lay
    from chalicelib.posters import render

    layout = lay.parse_layout(LAYOUT, 1080, 1920)
    base_jpeg, quality = render.prepare_base(background(), layout)
    face = render.prepare_avatar(avatar())
    base = render.decode(base_jpeg)
    poster = render.render_poster(base, layout, INVITE_URL, NICKNAME, face, quality)
    finished = render.decode(poster)
    t_floor, t_warm, t_cold = interleaved([
        lambda: render.encode(finished, quality),
        lambda: render.render_poster(base, layout, INVITE_URL, NICKNAME, face, quality),
        lambda: render.render_poster(render.decode(base_jpeg), layout, INVITE_URL, NICKNAME, face,
                                     quality)], repeat)
    ratio = t_warm / t_floor
    return [
        row("poster render vs JPEG encode of the same canvas (warm)", ratio, "x",
            f"<= 2.0 ({t_warm * 1000:.1f} vs {t_floor * 1000:.1f} ms)", ratio <= 2.0),
        row("poster render incl. canvas decode (first in a container)", t_cold / t_floor, "x",
            f"{t_cold * 1000:.1f} ms"),
        row("poster size (1080x1920 JPEG)", len(poster) / 1024, "KB", f"<= 300 (q{quality})",
            len(poster) <= 300 * 1024),
    ]


def aws_rows() -> list[dict]:
    from chalicelib import clock
    from chalicelib.auth import service as auth
    from chalicelib.fission import consumers, participants, progress, tasks
    from chalicelib.ids import new_id
    from chalicelib.livecodes import service as livecodes
    from chalicelib.posters import service as poster_service

    tenant = auth.create_tenant("bench")["tenant_id"]
    code = livecodes.create(tenant, {"name": "bench", "channel": "bench", "targets": [
        {"kind": "url", "name": "u", "url": "https://example.com/"}]})
    import base64

    template = poster_service.create(tenant, {"name": "bench", "background": base64.b64encode(
        background()).decode(), "width": 1080, "height": 1920, "layout": LAYOUT})
    task = tasks.create_task(tenant, {"name": "bench", "livecode_id": code["id"],
                                      "template_id": template["id"], "goal": 1000})
    people = [participants.register(tenant, task["id"], {"nickname": NICKNAME,
                                                         "avatar": base64.b64encode(avatar()).decode()})[0]
              for _ in range(2)]
    key = people[0]["progress_url"].rsplit("/", 1)[1]
    progress.poster_for_key(people[1]["progress_url"].rsplit("/", 1)[1])  # warm clients and canvas
    with counting() as calls:
        progress.poster_for_key(key)
    uncached = calls.total
    with counting() as calls:
        progress.poster_for_key(key)
    cached = calls.total

    def scan_event(new: bool, ref: str) -> dict:
        return {"type": "scan", "tenant_id": tenant, "code_id": code["id"], "ref": ref,
                "visitor_id": new_id(16), "new_visitor": new, "first_today": new,
                "at": clock.now().isoformat()}

    ref = people[0]["ref"]
    consumers.record_scan(scan_event(True, ref))
    consumer = {}
    for name, event in (("new visitor, invite counted", scan_event(True, ref)),
                        ("returning visitor", scan_event(False, ref)),
                        ("unknown ref, not counted", scan_event(True, ref[:-8] + "2" * 8))):
        with counting() as calls:
            consumers.record_scan(event)
        consumer[name] = calls.total
    livecodes.scan(code["slug"], livecodes.Visitor())
    with counting() as calls:
        livecodes.scan(code["slug"], livecodes.Visitor())
    plain = calls.total
    with counting() as calls:
        livecodes.scan(code["slug"], livecodes.Visitor(ref=ref))
    with_ref = calls.total
    rows = [row("AWS calls per cached poster request", cached, "calls", "<= 2", cached <= 2),
            row("AWS calls per uncached poster request (render + store)", uncached, "calls")]
    rows += [row(f"consumer AWS calls a ref-carrying scan adds ({name})", n, "calls", "<= 2", n <= 2)
             for name, n in consumer.items()]
    rows.append(row("scan request AWS calls: with ref minus without", with_ref - plain, "calls", "0",
                    with_ref == plain))
    return rows


def run(size: str) -> list[dict]:
    from tests.support import stack

    rows = render_rows(SIZES[size]["repeat"])
    with stack.moto_over_http():
        rows += aws_rows()
    return rows
