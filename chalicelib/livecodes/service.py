"""The live codes' use cases, as one name for routes and other packages (fission, wecom, analytics,
the local stack) to call. Each lives in the module of its kind:

- ``loading``: ids, slugs, the consistent read, routing rules;  ``views``: the API's answers;
- ``codes``: create, get, list and search, update, delete;
- ``targets``: add, update, delete and reorder a code's saved targets;
- ``scans``: route a visitor, claim capacity, publish the scan;  ``qr_images``: the QR image;
- ``expiry``: group QR lifetimes and the due index;  ``consumers``: warnings (event and tick);
- ``code_rules``: audience rules, the A/B experiment and its winner (pure rules: ``rules_*``).
"""
from __future__ import annotations

from chalicelib.livecodes.code_rules import (
    confirm_winner,
    end_experiment,
    get_experiment,
    set_audience_rules,
    set_experiment,
)
from chalicelib.livecodes.codes import create, delete, get, list_codes, search, update
from chalicelib.livecodes.expiry import GROUP_QR_LIFETIME, WARN_AHEAD, next_due, refresh_due
from chalicelib.livecodes.loading import CODE_ID_LEN, TENANT_ID_LEN, load, parse_slug, slug_for, to_rules
from chalicelib.livecodes.qr_images import qr_image
from chalicelib.livecodes.scans import ScanResult, Visitor, scan
from chalicelib.livecodes.targets import add_target, delete_target, reorder_targets, update_target
from chalicelib.livecodes.views import scan_url, target_view, view

__all__ = [
    "CODE_ID_LEN", "GROUP_QR_LIFETIME", "TENANT_ID_LEN", "WARN_AHEAD", "ScanResult", "Visitor",
    "add_target", "confirm_winner", "create", "end_experiment", "get_experiment",
    "delete", "delete_target", "get", "list_codes", "load", "next_due",
    "parse_slug", "qr_image", "refresh_due", "reorder_targets", "scan", "scan_url", "search",
    "set_audience_rules", "set_experiment", "slug_for", "target_view", "to_rules", "update",
    "update_target", "view",
]
