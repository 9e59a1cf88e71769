"""小程序码 and URL Links/Schemes for live codes and fission participants, and the resolution of
their scene by the mini-program.

- A 小程序码 (``wxa/getwxacodeunlimit``) is cached in S3 under a name hashed from every input
  (appid, scene, page, width, env_version, check_path): the same request reads the object back
  (1 S3 GET) and never asks WeChat twice; another app or option makes another object.
- A URL Link/Scheme expires (WeChat allows 30 days at most). One is kept per (appid, type, page,
  query, env_version) in ``mp_links`` and reused while it has at least half of the requested
  lifetime left; otherwise WeChat generates a new one, which replaces it.
- The scene (``chalicelib.mp.scenes``) is also the query of links (``scene=<scene>``), so the
  mini-program resolves codes and links the same way: ``GET /mp/v1/scene/{scene}``.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

from chalicelib import clock, media
from chalicelib import validate as v
from chalicelib.error_codes import SCENE_NOT_FOUND
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.mp import scenes, wxa
from chalicelib.mp.models import MpLink
from chalicelib.mp.service import credentials

PAGE = re.compile(r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-.]+)*$")  # no leading "/", no query
ENV_VERSIONS = ("release", "trial", "develop")
LINK_TYPES = ("url_link", "scheme")
MAX_LINK_DAYS = 30
IMAGE_TYPES = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg"}


# ---- what a code or a participant is ------------------------------------------------------------

def livecode_scene(tenant_id: str, code_id: str) -> str:
    from chalicelib.livecodes.loading import load

    code = load(tenant_id, code_id)  # 404 livecode-not-found
    return scenes.for_livecode(code.tenant_id, code.code_id)


def participant_scene(tenant_id: str, task_id: str, participant_id: str) -> str:
    from chalicelib.fission.participants import load_participant

    p = load_participant(tenant_id, task_id, participant_id)  # 404 participant-not-found
    return scenes.for_participant(tenant_id, task_id, p.participant_id, p.nonce)


# ---- options --------------------------------------------------------------------------------------

def _page(params: dict) -> str | None:
    page = v.text(params, "page", max_len=128)
    if page is not None and not PAGE.match(page):
        raise ValidationFailed("'page' must be a page path like pages/index/index (no leading '/', "
                               "no query: the scene carries the parameters)", field="page")
    return page


def code_options(params: dict) -> dict:
    v.only_keys(params, {"page", "width", "env_version", "check_path"})
    return {"page": _page(params), "width": v.integer(params, "width", lo=280, hi=1280, default=430),
            "env_version": v.choice(params, "env_version", ENV_VERSIONS, default="release"),
            "check_path": v.boolean(params, "check_path", default=True)}


def link_options(params: dict) -> dict:
    v.only_keys(params, {"type", "page", "env_version", "expire_days"})
    return {"type": v.choice(params, "type", LINK_TYPES, default="url_link"), "page": _page(params),
            "env_version": v.choice(params, "env_version", ENV_VERSIONS, default="release"),
            "expire_days": v.integer(params, "expire_days", lo=1, hi=MAX_LINK_DAYS,
                                     default=MAX_LINK_DAYS)}


# ---- 小程序码 --------------------------------------------------------------------------------------

def wxacode(tenant_id: str, scene: str, params: dict) -> tuple[bytes, str]:
    """The 小程序码 image and its content type: from the S3 cache, else from WeChat (then cached)."""
    opts = code_options(params)
    appid, secret = credentials(tenant_id)  # 409 mp-not-configured
    fingerprint = "|".join((appid, scene, opts["page"] or "", str(opts["width"]),
                            opts["env_version"], str(opts["check_path"]), "v1"))
    name = hashlib.sha256(fingerprint.encode()).hexdigest()[:40] + ".bin"
    key = media.object_key(tenant_id, "qr", name)
    data = media.get(key)
    if data is None:
        body = {"scene": scene, "width": opts["width"], "env_version": opts["env_version"],
                "check_path": opts["check_path"]}
        if opts["page"]:
            body["page"] = opts["page"]
        data = wxa.wxacode(appid, secret, body)
        media.put(tenant_id, "qr", data, "bin", name=name, cache=True)
    return data, image_type(data)


def image_type(data: bytes) -> str:
    return next((t for magic, t in IMAGE_TYPES.items() if data.startswith(magic)),
                "application/octet-stream")


# ---- URL Link / URL Scheme ------------------------------------------------------------------------

def link(tenant_id: str, scene: str, params: dict, now: datetime | None = None) -> dict:
    opts = link_options(params)
    now = now or clock.now()
    appid, secret = credentials(tenant_id)
    query = f"scene={scene}"
    link_id = MpLink.key_for(appid, opts["type"], opts["page"], query, opts["env_version"])
    lifetime = timedelta(days=opts["expire_days"])
    try:
        kept = MpLink.get(tenant_id, link_id)
        if kept.expires_at >= now + lifetime / 2:
            return _link_view(kept, reused=True)
    except MpLink.DoesNotExist:
        pass
    expires_at = (now + lifetime).replace(microsecond=0)
    jump = {"query": query, "env_version": opts["env_version"]}
    if opts["page"]:
        jump["path"] = opts["page"]
    body = {**jump, "expire_type": 0, "expire_time": int(expires_at.timestamp())} \
        if opts["type"] == "url_link" else \
        {"jump_wxa": jump, "expire_type": 0, "expire_time": int(expires_at.timestamp())}
    value = wxa.link(appid, secret, opts["type"], body)
    item = MpLink(tenant_id=tenant_id, link_id=link_id, kind=opts["type"], link=value,
                  page=opts["page"], scene_query=query, env_version=opts["env_version"],
                  expires_at=expires_at, created_at=now, expires=expires_at)
    item.save()
    return _link_view(item, reused=False)


def _link_view(item: MpLink, reused: bool) -> dict:
    return {"type": item.kind, "link": item.link, "expires_at": item.expires_at.isoformat(),
            "page": item.page, "query": item.scene_query, "env_version": item.env_version,
            "created_at": item.created_at.isoformat(), "reused": reused}


# ---- the mini-program resolves a scene ------------------------------------------------------------

def resolve(tenant_id: str, scene: str) -> dict:
    """What a scene stands for, for the logged-in user's tenant only (another tenant's scene, a
    forged one or one whose code/participant is gone: 404 ``scene-not-found``)."""
    missing = NotFound("no such scene", code=SCENE_NOT_FOUND)
    parsed = scenes.parse(scene)
    if parsed is None or parsed.tenant_id != tenant_id:
        raise missing
    try:
        if parsed.kind == "livecode":
            return _resolve_livecode(tenant_id, parsed)
        return _resolve_participant(tenant_id, parsed)
    except NotFound:
        raise missing from None


def _resolve_livecode(tenant_id: str, parsed: scenes.Scene) -> dict:
    from chalicelib.livecodes.loading import load, slug_for
    from chalicelib.livecodes.views import scan_url

    code = load(tenant_id, parsed.code_id or "")
    return {"kind": "livecode", "livecode_id": code.code_id,
            "slug": slug_for(tenant_id, code.code_id), "scan_url": scan_url(code), "ref": None}


def _resolve_participant(tenant_id: str, parsed: scenes.Scene) -> dict:
    from chalicelib.fission.participants import load_participant, participant_ref
    from chalicelib.fission.tasks import load_task, scan_url
    from chalicelib.livecodes.loading import slug_for

    p = load_participant(tenant_id, parsed.task_id or "", parsed.participant_id or "")
    if not p.nonce.startswith(parsed.nonce_part or "-"):
        raise NotFound("no such scene", code=SCENE_NOT_FOUND)
    task = load_task(tenant_id, p.task_id)
    ref = participant_ref(p)
    return {"kind": "participant", "livecode_id": task.livecode_id,
            "slug": slug_for(tenant_id, task.livecode_id),
            "scan_url": scan_url(tenant_id, task.livecode_id), "ref": ref,
            "task_id": task.task_id, "participant_id": p.participant_id, "nickname": p.nickname}
