"""The signed visit cookie that makes a returning visitor sticky without a database read.

One cookie per live code: ``yt_<code_id>=<visitor>.<target>.<day>.<sig>``; ``day`` is the last
local day of a scan (for daily unique visitors). The HMAC binds the code id, so a cookie cannot be
moved to another code or edited to pick a target.
"""
from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import NamedTuple

from chalicelib.ids import is_id, new_id
from chalicelib.signing import sign, verify

MAX_AGE = 180 * 24 * 3600


class Visit(NamedTuple):
    visitor_id: str
    target_id: str
    day: str


def cookie_name(code_id: str) -> str:
    return f"yt_{code_id}"


def new_visitor_id() -> str:
    return new_id(16)


def read(cookie_header: str, code_id: str, secret: str) -> Visit | None:
    if not cookie_header:
        return None
    try:
        jar = SimpleCookie()
        jar.load(cookie_header)
    except CookieError:
        return None
    morsel = jar.get(cookie_name(code_id))
    if morsel is None:
        return None
    parts = morsel.value.split(".")
    if len(parts) != 4:
        return None
    visitor_id, target_id, day, sig = parts
    if not verify(secret, f"{code_id}.{visitor_id}.{target_id}.{day}", sig):
        return None
    if not is_id(visitor_id, 16) or not (target_id == "-" or is_id(target_id)):
        return None
    return Visit(visitor_id, target_id, day)


def write(code_id: str, visit: Visit, secret: str, path: str, secure: bool) -> str:
    payload = f"{visit.visitor_id}.{visit.target_id}.{visit.day}"
    value = f"{payload}.{sign(secret, f'{code_id}.{payload}')}"
    flags = f"Path={path}; Max-Age={MAX_AGE}; HttpOnly; SameSite=Lax"
    return f"{cookie_name(code_id)}={value}; {flags}" + ("; Secure" if secure else "")
