"""Event consumers for the audience: scans by known users tag them with the code's channel and
the code's auto-tags."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from chalicelib.audience.activity import record_event
from chalicelib.audience.rules import channel_tag
from chalicelib.errors import NotFound


def tag_scanners(events: Iterable[dict]) -> None:
    """A scan carrying a user id (the mini-program's token) becomes a ``scanned_code`` event of
    that user and tags them ``channel:<channel>`` and the live code's ``tags`` (carried in the scan
    event by the request path, which has the code at hand, so nothing is read here) in the same
    transaction, with source ``channel``."""
    for e in events:
        if not e.get("user_id") or not e.get("tenant_id"):
            continue
        try:
            record_event(e["tenant_id"], e["user_id"], "scanned_code",
                                 at=datetime.fromisoformat(e["at"]) if e.get("at") else None,
                                 properties={"code_id": e.get("code_id"), "channel": e.get("channel"),
                                             "target_id": e.get("target_id")},
                                 channel_tags=[channel_tag(e.get("channel") or ""),
                                               *(e.get("tags") or [])])
        except NotFound:
            continue  # the user was deleted since: nothing to tag
