"""Smart-push content pools: loaded once per run (per container), then picked from per recipient.

:func:`load` reads a pool — the newest :data:`~chalicelib.campaigns.smartpush.MAX_POOL` items
holding any of ``tags_any`` (and of ``type``), through the content library's query (tag posting
lists and one BatchGet per 100 items, never a Scan) — and keeps it for :data:`TTL` seconds under the
caller's key (a campaign run, a journey step), so a run's batches share one read per container.

:func:`pick` is the one call a sender needs, campaigns and journeys alike::

    choices, contents = pool.pick(tenant_id, message, users, contacts, now, key)

``message`` is the stored smart-push message (``{pick, pool, avoid_sent_within_days,
fallback_content_id}``), ``users`` audience user views by id (``audience.users.get_users``),
``contacts`` the recipients' ``campaign_contacts`` items (``frequency.read``: the recent sends ride
on them), ``key`` names the cache entry. It answers a :class:`~chalicelib.campaigns.smartpush.Choice`
per user (``content_id`` None: nothing to send, ``pool_exhausted``) and the content of every chosen
id (``{id, type, title, body, url}``). The send then records the choice on the contact item with
:func:`chalicelib.campaigns.smartpush.remember` (the sender does it in its counter write).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.campaigns import smartpush
from chalicelib.campaigns.smartpush import Choice, Index, PoolItem, Profile

TTL = 300.0
MAX_CACHED = 64
CONTENT_FIELDS = ("id", "type", "title", "body", "url")
_cache: dict[tuple[str, str], tuple[float, Pool]] = {}


@dataclass
class Pool:
    tenant_id: str
    items: Index
    contents: dict[str, dict] = field(default_factory=dict)

    def content(self, content_ids: list[str]) -> dict[str, dict]:
        """The content of these ids (pool items are loaded; others, e.g. a fallback or an item
        that left the pool since a claim, are fetched once)."""
        from chalicelib.content import service as content

        missing = [c for c in dict.fromkeys(content_ids) if c and c not in self.contents]
        if missing:
            for cid, view in content.get_items(self.tenant_id, missing).items():
                self.contents[cid] = _compact(view)
        return {c: self.contents[c] for c in content_ids if c in self.contents}


def _compact(view: dict) -> dict:
    return {k: view.get(k) for k in CONTENT_FIELDS}


def load(tenant_id: str, spec: dict, key: str) -> Pool:
    """The pool of ``spec`` (``{tags_any, type}``), cached under ``(tenant, key)``."""
    hit = _cache.get((tenant_id, key))
    if hit and hit[0] > time.monotonic():
        return hit[1]
    from chalicelib.content import service as content
    from chalicelib.content.query import Query

    q = Query(tags=tuple(spec.get("tags_any") or ()), match="any", ctype=spec.get("type"))
    views = content.query(tenant_id, q, smartpush.MAX_POOL, None)["items"]
    pool = Pool(tenant_id, Index([PoolItem(i["id"], tuple(i["tags"]), i["type"]) for i in views]),
                {i["id"]: _compact(i) for i in views})
    if len(_cache) >= MAX_CACHED:
        _cache.clear()
    _cache[(tenant_id, key)] = (time.monotonic() + TTL, pool)
    return pool


def forget() -> None:
    _cache.clear()


def day_number(now: datetime) -> int:
    """The UTC day of ``now`` as a number (days since 1970-01-01): recent sends are kept by day."""
    return int(now.timestamp() // 86400)


def pick(tenant_id: str, message: dict, users: dict[str, dict], contacts: dict[str, dict],
         now: datetime, key: str) -> tuple[dict[str, Choice], dict[str, dict]]:
    """A choice per user in ``contacts`` and the content of the chosen ids (see the module doc)."""
    pool = load(tenant_id, message["pool"], key)
    today = day_number(now)
    choices = {u: smartpush.choose(pool.items, Profile.from_view(users.get(u)),
                                   smartpush.recent_sends(contacts[u]), today,
                                   int(message.get("avoid_sent_within_days") or 0),
                                   message.get("fallback_content_id"))
               for u in contacts}
    contents = pool.content([c.content_id for c in choices.values() if c.content_id])
    return choices, contents
