"""Every domain of the app, in order: ``app.py`` registers their routes, the events consumer
(:mod:`chalicelib.dispatcher`) runs their consumers, the tick (:mod:`chalicelib.scheduler`) their
jobs, and :mod:`chalicelib.apidoc` merges their OpenAPI parts in this order (wecom extends the live
code target schemas, so it comes after livecodes). ``GET /openapi.json`` is app.py's own route
(meta_routes).

Adding a domain: write ``chalicelib/<pkg>/domain.py`` (see :mod:`chalicelib.domain`) and list it
here. Nothing in a domain package imports this module (the readers are app.py, the dispatcher, the
tick, the OpenAPI builder and the table loaders), so it closes no import circle.
"""
from __future__ import annotations

import importlib

from chalicelib.analytics.domain import DOMAIN as analytics
from chalicelib.audience.domain import DOMAIN as audience
from chalicelib.auth.domain import DOMAIN as auth
from chalicelib.campaigns.domain import DOMAIN as campaigns
from chalicelib.channels.domain import DOMAIN as channels
from chalicelib.content.domain import DOMAIN as content
from chalicelib.coupons.domain import DOMAIN as coupons
from chalicelib.domain import Domain
from chalicelib.entry.domain import DOMAIN as entry
from chalicelib.fission.domain import DOMAIN as fission
from chalicelib.hooks.domain import DOMAIN as hooks
from chalicelib.journeys.domain import DOMAIN as journeys
from chalicelib.livecodes.domain import DOMAIN as livecodes
from chalicelib.media.domain import DOMAIN as media
from chalicelib.members.domain import DOMAIN as members
from chalicelib.mp.domain import DOMAIN as mp
from chalicelib.portability.domain import DOMAIN as portability
from chalicelib.posters.domain import DOMAIN as posters
from chalicelib.wecom.domain import DOMAIN as wecom

DOMAINS: tuple[Domain, ...] = (
    auth, livecodes, media, wecom, content, audience, mp, posters, fission, campaigns, analytics,
    portability, hooks, members, channels, entry, coupons, journeys)


def import_models() -> None:
    """Import every domain's table models so ``db.all_models()`` sees them (the local stack and
    infra/ create the tables from them)."""
    for domain in DOMAINS:
        if domain.models is not None:
            importlib.import_module(domain.models)
