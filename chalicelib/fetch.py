"""Outbound HTTP with guard rails: only public addresses (unless allowed), size and time limits.

The host is resolved once, every address it resolves to is vetted, and the connection is made to
a vetted address (pinned: no second resolution, so a DNS answer that changes between the check and
the connection — rebinding — cannot redirect the request). For https the TLS handshake still names
the host (SNI) and checks its certificate; the ``Host`` header is the host as given. Redirects are
never followed (they could point anywhere).

URLs a user can give (``image_url``, webhooks) must resolve to public addresses, unless the
deployment opts in with ``YUTANG_ALLOW_PRIVATE_FETCH=1``. The WeChat and 企业微信 API bases are
configuration, not user input: URLs on those origins are trusted as configured (the local stack
points them at its fakes on loopback); they are still pinned to the address resolved once.

A public address is one that :mod:`ipaddress` calls global and that does not carry an IPv4 address
inside an IPv6 one (IPv4-mapped ``::ffff:0:0/96``, IPv4-compatible ``::/96``, NAT64
``64:ff9b::/96`` and ``64:ff9b:1::/48``, 6to4 ``2002::/16``, Teredo ``2001::/32``): through a
translator those reach whatever IPv4 address they embed, loopback and private ones included.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from typing import NamedTuple
from urllib.parse import urlsplit

from chalicelib.error_codes import FETCH_FAILED, FETCH_REFUSED, FETCH_TIMEOUT, WEBHOOK_URL_REFUSED
from chalicelib.errors import ValidationFailed
from chalicelib.settings import get_settings

EMBEDDING_V4 = tuple(ipaddress.ip_network(n) for n in (
    "::ffff:0:0/96", "::/96", "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "2001::/32"))


class FetchRefused(ValidationFailed):
    """Nothing was sent: not an http(s) URL, or the address is not allowed (permanent)."""
    code = FETCH_REFUSED


class FetchFailed(FetchRefused):
    """The request could not be completed (connection refused, reset, unresolvable...)."""
    code = FETCH_FAILED


class FetchTimeout(FetchFailed):
    """No answer in time: the request may or may not have been received."""
    code = FETCH_TIMEOUT


class Target(NamedTuple):
    scheme: str
    host: str
    port: int
    path: str  # path and query
    addresses: tuple[str, ...]  # vetted, in resolver order


def is_public(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if addr.version == 6 and any(addr in net for net in EMBEDDING_V4):
        return False
    return addr.is_global and not addr.is_multicast


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def vet(url: str, *, resolve: bool = True) -> Target:
    """The URL's target with every address checked; FetchRefused when it must not be contacted.
    ``resolve=False`` checks only what can be known without DNS (an address literal)."""
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise FetchRefused("not a valid URL") from None
    if parts.scheme not in {"http", "https"} or not host:
        raise FetchRefused("only absolute http(s) URLs can be fetched")
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    cfg = get_settings()
    allow_private = cfg.allow_private_fetch or _origin(url) in {
        _origin(cfg.wechat_api_base), _origin(cfg.wecom_api_base)}
    literal = _literal(host)
    if literal is not None:
        if not allow_private and not is_public(literal):
            raise FetchRefused(f"refusing to contact a non-public address ({host})")
        return Target(parts.scheme, host, port, path, (str(literal),))
    if not resolve:
        return Target(parts.scheme, host, port, path, ())
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise FetchFailed(f"cannot resolve host {host!r}") from None
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    if not allow_private and not all(is_public(ipaddress.ip_address(a.split("%", 1)[0]))
                                     for a in addresses):
        raise FetchRefused(f"refusing to contact a non-public address ({host})")
    return Target(parts.scheme, host, port, path, addresses)


def _origin(url: str) -> tuple[str, str, int | None]:
    parsed = urlsplit(url)
    try:
        port = parsed.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(parsed.scheme)
    return parsed.scheme, (parsed.hostname or "").lower(), port or default


def check_public(url: str) -> None:
    vet(url)


def check_saved_url(url: str) -> None:
    """For a URL an operator saves (webhooks): refused now if it is, or resolves to, a non-public
    address. A name that does not resolve yet is accepted; every send vets it again."""
    try:
        vet(url)
    except FetchFailed:
        return
    except FetchRefused as exc:
        raise FetchRefused(f"{exc.message}: webhooks must point at a public address",
                           code=WEBHOOK_URL_REFUSED) from None


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


class Answer(NamedTuple):
    status: int
    body: bytes


def request(method: str, url: str, *, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 5.0, max_bytes: int = 1 << 20) -> Answer:
    """One request to a vetted, pinned address. Raises FetchRefused (nothing sent), FetchTimeout
    (no answer in time: outcome unknown) or FetchFailed (transport error); an HTTP error status is
    an answer, not an exception. A body longer than ``max_bytes`` is FetchFailed."""
    target = vet(url)
    cls = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    all_headers = {"User-Agent": "yutang/1", **(headers or {})}
    last: Exception | None = None
    for address in target.addresses:
        conn = cls(target, address, timeout)
        sent = False
        try:
            conn.request(method, target.path, body=body, headers=all_headers)
            sent = True
            resp = conn.getresponse()
            data = resp.read(max_bytes + 1)
        except TimeoutError:
            if sent:
                raise FetchTimeout(f"no answer from {url[:100]} within {timeout:g} s") from None
            last = TimeoutError("connect timed out")
            continue
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if sent:
                raise FetchFailed(f"could not reach {url[:100]}: {exc}") from None
            last = exc
            continue
        finally:
            conn.close()
        if len(data) > max_bytes:
            raise FetchFailed(f"the resource at {url[:100]} is larger than {max_bytes} bytes")
        return Answer(resp.status, data)
    raise FetchFailed(f"could not reach {url[:100]}: {last}")


def get_bytes(url: str, max_bytes: int, timeout: float = 5.0) -> bytes:
    answer = request("GET", url, timeout=timeout, max_bytes=max_bytes)
    if not 200 <= answer.status < 300:
        raise FetchFailed(f"could not fetch {url[:100]}: HTTP {answer.status}")
    return answer.body


def post_json(url: str, body: bytes, headers: dict, timeout: float) -> int:
    """POST and return the status code (raises as :func:`request`)."""
    return request("POST", url, body=body, headers={"Content-Type": "application/json", **headers},
                   timeout=timeout, max_bytes=64 * 1024).status
