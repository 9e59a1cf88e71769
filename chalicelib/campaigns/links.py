"""Click tracking (pure): links in a message become signed redirect URLs, one per recipient.

A token is ``<payload>.<signature>``, the payload the base64url of
``tenant|campaign|run|batch|user|link index`` and the signature an HMAC with the app secret, so
``GET /c/{token}`` trusts its contents without a lookup and nobody can forge a redirect.
"""
from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import NamedTuple

from chalicelib import signing

URL = re.compile(r"https?://[^\s<>\"'，。！？、；：（）【】《》]+")
_TRAILING = ".,;:!?)]}'\""
MAX_LINKS = 20
PICKED = 99  # the link of a smart-push recipient's chosen item (read from their delivery row)
NO_USER = "-"


class Click(NamedTuple):
    tenant_id: str
    campaign_id: str
    run_id: str
    batch: str
    user_id: str
    link: int


def find(text: str | None) -> list[str]:
    """The distinct http(s) links of a text, in order."""
    found: dict[str, None] = {}
    for match in URL.finditer(text or ""):
        found.setdefault(_trim(match.group(0)), None)
    return list(found)[:MAX_LINKS]


def _trim(url: str) -> str:
    while url and url[-1] in _TRAILING:
        url = url[:-1]
    return url


def rewrite(text: str, links: list[str], tracked: Callable[[int], str]) -> str:
    """Replace each known link of ``text`` by ``tracked(index)``."""
    index = {url: i for i, url in enumerate(links)}

    def swap(match: re.Match) -> str:
        raw = match.group(0)
        url = _trim(raw)
        if url not in index:
            return raw
        return tracked(index[url]) + raw[len(url):]

    return URL.sub(swap, text)


def token(secret: str, click: Click) -> str:
    raw = "|".join((click.tenant_id, click.campaign_id, click.run_id, click.batch, click.user_id,
                    str(click.link)))
    payload = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    return f"{payload}.{signing.sign(secret, 'click|' + payload, 12)}"


def parse(secret: str, value: str) -> Click | None:
    payload, _, sig = (value or "").partition(".")
    if not payload or len(value) > 400 or not signing.verify(secret, "click|" + payload, sig, 12):
        return None
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    except ValueError:
        return None
    parts = raw.split("|")
    if len(parts) != 6 or not parts[5].isdigit():
        return None
    tenant_id, campaign_id, run_id, batch, user_id = parts[:5]
    return Click(tenant_id, campaign_id, run_id, batch, user_id, int(parts[5]))
