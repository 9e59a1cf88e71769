"""Content library items as 企业微信 message attachments (``send_welcome_msg``; pure but for URLs).

- ``article`` / ``link`` → a link card ``{title, url, desc, picurl?}``.
- ``image`` / ``video`` / ``audio`` / ``file`` → a link card to the media on our own host
  (``/m/<tenant>/media/<hash>``, content-addressed and long-lived; an image is its own picture).
  企业微信's own image/video/file attachments take a ``media_id`` from its media upload API (valid
  3 days) and image ``pic_url`` only takes links from its ``uploadimg`` API, so a link is what works
  without uploading each item to 企业微信 first.
- ``miniprogram`` → a link card to the item's ``url`` (picture: the card's thumbnail), because a
  real mini-program attachment needs ``pic_media_id``, the thumbnail uploaded to 企业微信's temporary
  media (multipart ``media/upload``, valid 3 days) — not implemented here. Without a ``url`` (set
  it to an H5 page or a 小程序 URL Link) no attachment is sent and the welcome text goes alone.
- ``text`` → no attachment; its body serves as the text when the welcome has none.

Presigned S3 URLs are not used: a welcome stays in the customer's chat far longer than they live.
Lengths are clipped to 企业微信's limits in UTF-8 bytes (text 4000, title 128, desc 512; a url over
2048 is dropped).
"""
from __future__ import annotations

from typing import Any

from chalicelib import media

MEDIA_TYPES = ("image", "video", "audio", "file")
TITLE_BYTES, DESC_BYTES, URL_BYTES, TEXT_BYTES = 128, 512, 2048, 4000


def clip(value: str | None, limit: int) -> str:
    """At most ``limit`` UTF-8 bytes, never cutting a character in half."""
    return (value or "").encode()[:limit].decode(errors="ignore").strip()


def link(title: str, url: str | None, desc: str | None = None,
         picurl: str | None = None) -> dict | None:
    if not url or len(url.encode()) > URL_BYTES:
        return None
    card = {"title": clip(title, TITLE_BYTES) or clip(url, TITLE_BYTES), "url": url}
    if desc and clip(desc, DESC_BYTES):
        card["desc"] = clip(desc, DESC_BYTES)
    if picurl and len(picurl.encode()) <= URL_BYTES:
        card["picurl"] = picurl
    return {"msgtype": "link", "link": card}


def for_content(item: Any) -> list[dict]:
    """The attachments for a content item (:class:`chalicelib.content.models.ContentItem`)."""
    ctype, title = item.ctype, item.title or ""
    if ctype in ("article", "link"):
        found = link(title, item.url, item.body)
    elif ctype in MEDIA_TYPES:
        stored = item.media or {}
        url = media.public_url(stored.get("key"))
        found = link(title, url, item.body or stored.get("filename"),
                     url if ctype == "image" else None)
    elif ctype == "miniprogram":
        card = item.card or {}
        found = link(card.get("title") or title, item.url, item.body,
                     media.public_url(card.get("thumbnail_key")))
    else:
        found = None
    return [found] if found else []


def welcome_text(text: str | None, item: Any | None) -> str | None:
    """The welcome's own text, else a text item's body (≤ 4000 bytes, 企业微信's limit)."""
    if not text and item is not None and item.ctype == "text":
        text = item.body
    return clip(text, TEXT_BYTES) or None
