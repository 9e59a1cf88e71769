"""Poster templates (CRUD, preview) and participant posters rendered once and cached in S3.

A template whose rendering changes publishes ``template_changed`` (docs/events.md); the tasks that
use it (fission) follow from the events queue. Posters knows no task: a template's users are asked
through the ``users`` function its caller passes to :func:`delete`."""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib import clock, images, media, pagination
from chalicelib import validate as v
from chalicelib.error_codes import (
    QR_BOX_TOO_SMALL,
    TEMPLATE_CANVAS_MISSING,
    TEMPLATE_IN_USE,
    TEMPLATE_NOT_FOUND,
)
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.ids import is_id, new_id
from chalicelib.posters import layout as lay
from chalicelib.posters.models import PosterTemplate
from chalicelib.settings import get_settings

TEMPLATE_ID_LEN = 8
RENDER_VERSION = "r1"  # bump when rendering changes: every poster's cache name changes with it
FIELDS = ("name", "background", "width", "height", "layout")
SAMPLE_NICKNAME = "鱼塘示例昵称"
_BASES: OrderedDict[str, Any] = OrderedDict()  # decoded prepared canvases, per container
_BASES_MAX = 4
_bases_lock = threading.Lock()


def sample_invite_url() -> str:
    """An invite URL as long as every real one (same host, slug and ref lengths)."""
    return f"{get_settings().public_url}/s/{'x' * 16}?ref={'x' * 34}"


# ---- templates --------------------------------------------------------------------------------

def load(tenant_id: str, template_id: str) -> PosterTemplate:
    missing = NotFound("no such poster template", code=TEMPLATE_NOT_FOUND)
    if not is_id(template_id, TEMPLATE_ID_LEN):
        raise missing
    return PosterTemplate.get_or_raise(tenant_id, template_id, missing)


def view(t: PosterTemplate) -> dict:
    return {"id": t.template_id, "name": t.name, "width": int(t.width), "height": int(t.height),
            "layout": t.layout, "background_url": media.public_url(t.background_key),
            "preview_url": f"{get_settings().public_url}/v1/poster-templates/{t.template_id}/preview",
            "jpeg_quality": int(t.quality), "created_at": t.created_at.isoformat(),
            "updated_at": t.updated_at.isoformat()}


def _prepare(tenant_id: str, background: bytes, layout: lay.Layout) -> dict:
    from chalicelib.posters import render

    try:
        render.qr_scale(sample_invite_url(), layout.qr.size)
    except render.RenderError as exc:
        raise ValidationFailed(str(exc), code=QR_BOX_TOO_SMALL, field="layout.qr.size") from None
    base, quality = render.prepare_base(background, layout)
    base_key = media.put(tenant_id, "poster", base, "jpg")
    stored = layout.to_dict()
    fp = hashlib.sha256(json.dumps([base_key, stored, quality, layout.width, layout.height,
                                    RENDER_VERSION], sort_keys=True).encode()).hexdigest()[:24]
    return {"layout": stored, "base_key": base_key, "quality": quality, "fingerprint": fp,
            "width": layout.width, "height": layout.height}


def create(tenant_id: str, body: dict, now: datetime | None = None) -> dict:
    now = now or clock.now()
    v.only_keys(body, FIELDS)
    name = v.text(body, "name", required=True, max_len=100)
    width, height = lay.parse_canvas(body)
    layout = lay.parse_layout(body.get("layout"), width, height) if "layout" in body else None
    if layout is None:
        raise ValidationFailed("'layout' is required", field="layout")
    background = images.from_base64(body.get("background"), "background")
    prepared = _prepare(tenant_id, background.data, layout)
    t = PosterTemplate(tenant_id=tenant_id, template_id=new_id(TEMPLATE_ID_LEN), name=name,
                       background_key=media.put(tenant_id, "img", background.data, background.ext),
                       created_at=now, updated_at=now, **prepared)
    t.save(condition=PosterTemplate.template_id.does_not_exist())
    return view(t)


def get(tenant_id: str, template_id: str) -> dict:
    return view(load(tenant_id, template_id))


def list_templates(tenant_id: str, limit: int, cursor: str | None) -> dict:
    return pagination.by_tenant(PosterTemplate, tenant_id, limit, cursor, view, TEMPLATE_ID_LEN)


def update(tenant_id: str, template_id: str, body: dict, now: datetime | None = None) -> dict:
    now = now or clock.now()
    v.only_keys(body, FIELDS)
    t = load(tenant_id, template_id)
    actions: list[Action] = [PosterTemplate.updated_at.set(now)]
    if "name" in body:
        actions.append(PosterTemplate.name.set(v.text(body, "name", required=True, max_len=100)))
    prepared = None
    if any(k in body for k in ("background", "width", "height", "layout")):
        width, height = lay.parse_canvas(body, default=(int(t.width), int(t.height)))
        layout = lay.parse_layout(body.get("layout", t.layout), width, height)
        if "background" in body:
            background = images.from_base64(body.get("background"), "background")
            actions.append(PosterTemplate.background_key.set(
                media.put(tenant_id, "img", background.data, background.ext)))
            data = background.data
        else:
            data = media.get(t.background_key) or b""
        prepared = _prepare(tenant_id, data, layout)
        actions += [getattr(PosterTemplate, k).set(val) for k, val in prepared.items()]
    t.update(actions=actions, condition=PosterTemplate.template_id.exists())
    if prepared is not None:
        _publish_change(tenant_id, template_id, prepared["fingerprint"], now)
    return view(load(tenant_id, template_id))


def _publish_change(tenant_id: str, template_id: str, fingerprint: str, now: datetime) -> None:
    from chalicelib import events

    events.publish("template_changed", {"tenant_id": tenant_id, "at": now.isoformat(),
                                        "template_id": template_id, "fingerprint": fingerprint})


def delete(tenant_id: str, template_id: str, *, users: Callable[[str, str], list[str]]) -> None:
    """Delete the template unless ``users(tenant_id, template_id)`` names what still uses it (the
    fission tasks, passed in by the route)."""
    t = load(tenant_id, template_id)
    using = users(tenant_id, template_id)
    if using:
        raise Conflict(f"the template is used by fission task(s) {', '.join(using[:5])}; change or "
                       "delete them first", code=TEMPLATE_IN_USE)
    t.delete()


# ---- rendering ----------------------------------------------------------------------------------

def _base(key: str) -> Any:
    """The prepared canvas, decoded once per container (keys are content hashes: never stale)."""
    from chalicelib.posters import render

    with _bases_lock:
        if key in _BASES:
            _BASES.move_to_end(key)
            return _BASES[key]
    data = media.get(key)
    if data is None:
        raise NotFound("the template's prepared canvas is missing; PATCH the template's layout to "
                       "prepare it again", code=TEMPLATE_CANVAS_MISSING)
    img = render.decode(data)
    with _bases_lock:
        _BASES[key] = img
        while len(_BASES) > _BASES_MAX:
            _BASES.popitem(last=False)
    return img


def poster_name(fingerprint: str, invite_url: str, nickname: str, avatar_key: str | None) -> str:
    parts = json.dumps([fingerprint, invite_url, nickname, avatar_key or "", RENDER_VERSION])
    return f"{hashlib.sha256(parts.encode()).hexdigest()[:32]}.jpg"


def render_template(t: PosterTemplate, invite_url: str, nickname: str,
                    avatar: bytes | None) -> bytes:
    from chalicelib.posters import render

    layout = lay.from_dict(t.layout, int(t.width), int(t.height))
    try:
        return render.render_poster(_base(t.base_key), layout, invite_url, nickname, avatar,
                                    int(t.quality))
    except render.RenderError as exc:
        raise Conflict(f"{exc}; enlarge the template's QR box", code=QR_BOX_TOO_SMALL) from None


def poster(tenant_id: str, template_id: str, fingerprint: str, invite_url: str, nickname: str,
           avatar_key: str | None) -> bytes:
    """A participant's poster: one S3 read when it was rendered before; else render and store it.
    ``fingerprint`` is the template's as the caller knows it (the task keeps a copy)."""
    name = poster_name(fingerprint, invite_url, nickname, avatar_key)
    cached = media.get(media.object_key(tenant_id, "poster", name))
    if cached is not None:
        return cached
    t = load(tenant_id, template_id)
    if t.fingerprint != fingerprint:  # the template changed after the caller's copy was taken
        name = poster_name(t.fingerprint, invite_url, nickname, avatar_key)
        cached = media.get(media.object_key(tenant_id, "poster", name))
        if cached is not None:
            return cached
    needs_avatar = avatar_key is not None and t.layout.get("avatar") is not None
    avatar = media.get(avatar_key) if avatar_key is not None and needs_avatar else None
    data = render_template(t, invite_url, nickname, avatar)
    media.put(tenant_id, "poster", data, "jpg", name=name, cache=True)
    return data


def preview(tenant_id: str, template_id: str) -> bytes:
    from chalicelib.posters import render

    t = load(tenant_id, template_id)
    return render_template(t, sample_invite_url(), SAMPLE_NICKNAME, _sample_avatar(render))


def _sample_avatar(render: Any) -> bytes:
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (240, 240), (220, 226, 235))
    draw = ImageDraw.Draw(img)
    draw.ellipse((75, 40, 165, 130), fill=(160, 170, 185))
    draw.ellipse((35, 140, 205, 320), fill=(160, 170, 185))
    out = io.BytesIO()
    img.save(out, "PNG")
    return render.prepare_avatar(out.getvalue())
