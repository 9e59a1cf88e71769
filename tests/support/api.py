"""Helpers for the api layer (chalice.test.Client responses)."""
from __future__ import annotations

import json


def body(resp):
    return json.loads(resp.body)


def assert_error(resp, status, code=None):
    """The contract's error shape: {"error": {"code", "message"}} with the given status."""
    assert resp.status_code == status, resp.body
    err = body(resp)["error"]
    assert isinstance(err["message"], str) and err["message"]
    if code:
        assert err["code"] == code
