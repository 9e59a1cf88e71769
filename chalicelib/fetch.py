"""Outbound HTTP with guard rails: no private addresses (unless allowed), size and time limits.

URLs a user can give (``image_url``, webhooks) must resolve to public addresses, unless the
deployment opts in with ``YUTANG_ALLOW_PRIVATE_FETCH=1``. The WeChat and 企业微信 API bases are
configuration, not user input: URLs on those origins are trusted as configured (the local stack
points them at its fakes on loopback)."""
from __future__ import annotations

import ipaddress
import socket
import urllib.error
import urllib.request
from urllib.parse import urlparse

from chalicelib.errors import ValidationFailed
from chalicelib.settings import get_settings


class FetchRefused(ValidationFailed):
    code = "fetch-refused"


def check_public(url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise FetchRefused("only absolute http(s) URLs can be fetched")
    cfg = get_settings()
    if cfg.allow_private_fetch or _origin(url) in {_origin(cfg.wechat_api_base),
                                                   _origin(cfg.wecom_api_base)}:
        return
    try:
        infos = socket.getaddrinfo(parsed.hostname, parsed.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        raise FetchRefused(f"cannot resolve host {parsed.hostname!r}") from None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if not addr.is_global:
            raise FetchRefused(f"refusing to contact a non-public address ({parsed.hostname})")


def _origin(url: str) -> tuple[str, str, int | None]:
    parsed = urlparse(url)
    default = {"http": 80, "https": 443}.get(parsed.scheme)
    return parsed.scheme, (parsed.hostname or "").lower(), parsed.port or default


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # redirects could point at private addresses
        return None


def get_bytes(url: str, max_bytes: int, timeout: float = 5.0) -> bytes:
    check_public(url)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers={"User-Agent": "yutang/1"}),
                         timeout=timeout) as resp:
            data = resp.read(max_bytes + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise FetchRefused(f"could not fetch {url[:100]}: {exc}") from None
    if len(data) > max_bytes:
        raise FetchRefused(f"the resource at {url[:100]} is larger than {max_bytes} bytes")
    return data


def post_json(url: str, body: bytes, headers: dict, timeout: float) -> int:
    """POST and return the status code (raises FetchRefused on transport errors)."""
    check_public(url)
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise FetchRefused(f"could not reach {url[:100]}: {exc}") from None
