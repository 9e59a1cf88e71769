"""The QR image of a live code (PNG or SVG), rendered once per style and cached in S3."""
from __future__ import annotations

from chalicelib import media
from chalicelib.entry.service import printed_url
from chalicelib.error_codes import LOGO_NOT_SET
from chalicelib.errors import ValidationFailed
from chalicelib.livecodes.loading import load
from chalicelib.livecodes.views import scan_url


def qr_image(tenant_id: str, code_id: str, params: dict) -> tuple[bytes, str]:
    """The code's QR as PNG or SVG, rendered once per parameter set and cached in S3."""
    from chalicelib import qr

    code = load(tenant_id, code_id)
    style = qr.parse_style(params)
    with_logo = params.get("logo", "0") in ("1", "true")
    if with_logo and not code.logo_key:
        raise ValidationFailed("this live code has no logo; PATCH it with 'logo' first",
                               code=LOGO_NOT_SET, field="logo")
    logo_key = code.logo_key if with_logo else None
    text = printed_url(tenant_id, code_id, scan_url(code))  # the entry URL once domains are listed
    name = style.cache_name(text, logo_key)
    content_type = "image/png" if style.fmt == "png" else "image/svg+xml"
    cached = media.get(media.object_key(tenant_id, "qr", name))
    if cached is not None:
        return cached, content_type
    logo = media.get(logo_key) if logo_key else None
    if style.fmt == "png":
        data = qr.render_png(text, style, logo)
    else:
        logo_type = "image/jpeg" if logo_key and logo_key.endswith(".jpg") else "image/png"
        data = qr.render_svg(text, style, logo, logo_type).encode()
    media.put(tenant_id, "qr", data, style.fmt, name=name, cache=True)
    return data, content_type
