"""Team accounts on the embedded stack (moto over HTTP): AWS calls per login, refresh and
authenticated request; password hashing cost against OWASP's scrypt baseline, in the same run.
"""
from __future__ import annotations

import json

from bench.common import counting, per_call, row

SIZES = {"small": {"repeat": 3}, "full": {"repeat": 10}}
JSON = {"Content-Type": "application/json"}


def call_rows() -> list[dict]:
    from chalice.test import Client

    import app as app_module
    from chalicelib.auth import service as auth
    from chalicelib.members import service, sessions

    tenant = auth.create_tenant("bench")
    invited = service.invite(tenant["tenant_id"], {"email": "bench-owner@example.com",
                                                    "role": "owner"}, "owner", "bench")
    service.accept_invite(invited["invite_token"], {"password": "bench password 1"})
    login = json.dumps({"email": "bench-owner@example.com", "password": "bench password 1"})
    with Client(app_module.app) as client:
        client.http.post("/v1/sessions", headers=JSON, body=login)  # warm clients and caches
        with counting() as on_login:
            session = json.loads(client.http.post("/v1/sessions", headers=JSON, body=login).body)
        with counting() as on_refresh:
            refreshed = json.loads(client.http.post("/v1/sessions/refresh", headers=JSON, body=json.dumps(
                {"refresh_token": session["refresh_token"]})).body)
        h = {"Authorization": f"Bearer {refreshed['token']}"}
        sessions.clear_cache()
        with counting() as cold:
            client.http.get("/v1/me", headers=h)
        with counting() as warm:
            client.http.get("/v1/me", headers=h)
        with counting() as change:
            client.http.patch(f"/v1/members/{session['member']['id']}", headers={**h, **JSON},
                              body='{"name": "bench"}')
    return [
        row("AWS calls per login (incl. its audit entry)", on_login.total, "calls", "<= 6",
            on_login.total <= 6),
        row("AWS calls per refresh (incl. its audit entry)", on_refresh.total, "calls", "<= 5",
            on_refresh.total <= 5),
        row("AWS calls to check a session, first in 5 s", cold.total, "calls", "<= 2", cold.total <= 2),
        row("AWS calls to check a session, cached", warm.total, "calls", "0", warm.total == 0),
        row("audit writes per change", change.calls.get("PutItem", 0), "calls", "1",
            change.calls.get("PutItem", 0) == 1),
    ]


def hash_rows(repeat: int) -> list[dict]:
    from chalicelib.members import passwords

    ours = per_call(lambda: passwords.hash_password("bench password 1"), repeat, warmup=1)
    owasp = per_call(lambda: passwords.hash_password("bench password 1",
                                                     passwords.Cost(2 ** 17, 8, 1)), repeat, warmup=1)
    # OWASP lists both as equivalent; the larger N is slower per unit of work (128 MiB, cache misses)
    return [row("password hash (N=2^15,r=8,p=3) vs OWASP N=2^17,r=8,p=1", ours / owasp, "x"),
            row("password hash at the default cost", ours * 1000, "ms")]


def run(size: str) -> list[dict]:
    from tests.support import stack

    with stack.moto_over_http():
        rows = call_rows()
    return rows + hash_rows(SIZES[size]["repeat"])
