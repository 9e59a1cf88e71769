"""Entry domains, pure: what a landing domain may be, which one is current, where an entry
redirects. No I/O.

A domain is a DNS host name (IDNA, so 中文 names become ``xn--`` labels), lower-cased, optionally
with a port; no scheme, path, user info or IP address. The current domain is the first ``active``
one of the list; with none, the entry sends visitors to the deployment's own public URL, never
elsewhere. The redirect is built only from the stored domain and the slug (both validated), plus a
valid ``ref``: nothing a visitor sends chooses the destination host.
"""
from __future__ import annotations

import re
from urllib.parse import quote

from chalicelib.errors import ValidationFailed

MAX_DOMAINS = 20
STATUSES = ("active", "blocked")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_PORT = re.compile(r"^[1-9][0-9]{0,4}$")
REF = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def parse_domain(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed("'domain' is required: a host name like go.example.com", field="domain")
    raw = value.strip().lower().rstrip(".")
    host, _, port = raw.partition(":")
    if port and (not _PORT.match(port) or int(port) > 65535):
        raise ValidationFailed("'domain' has an invalid port", field="domain")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValidationFailed("'domain' is not a valid host name", field="domain") from None
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.match(x) for x in labels) \
            or labels[-1].isdigit():
        raise ValidationFailed("'domain' must be a host name like go.example.com (no scheme, "
                               "path or IP address)", field="domain")
    return f"{host}:{port}" if port else host


def current(domains: list[dict]) -> str | None:
    """The first active domain of the list, else None."""
    return next((d["domain"] for d in domains if d.get("status") == "active"), None)


def landing_url(scheme: str, host: str, slug: str, ref: str | None) -> str:
    """``{scheme}://{host}/s/{slug}[?ref=...]``; ``host`` comes from a validated list or settings."""
    url = f"{scheme}://{host}/s/{quote(slug, safe='')}"
    return f"{url}?ref={ref}" if ref else url
