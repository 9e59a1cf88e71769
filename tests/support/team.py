"""Members with a role and a logged-in session, for api tests."""
from __future__ import annotations

import json

from tests.support.api import body

PASSWORD = "correct horse battery"


def member_session(tenant_id: str, role: str, email: str | None = None,
                   password: str = PASSWORD) -> dict:
    """An active member of ``role`` (invited and accepted through the services) and its session."""
    from chalicelib.ids import new_id
    from chalicelib.members import service, sessions

    email = email or f"{role}-{new_id(6)}@example.com"
    invited = service.invite(tenant_id, {"email": email, "role": role}, inviter_role="owner",
                             inviter_id="test")
    member = service.accept_invite(invited["invite_token"], {"password": password})
    return sessions.open_session(member, "127.0.0.1", "pytest")


def bearer(session: dict) -> dict:
    return {"Authorization": f"Bearer {session['token']}", "Content-Type": "application/json"}


def login(client, email: str, password: str = PASSWORD, tenant_id: str | None = None):
    payload = {"email": email, "password": password}
    if tenant_id:
        payload["tenant_id"] = tenant_id
    return client.http.post("/v1/sessions", headers={"Content-Type": "application/json"},
                            body=json.dumps(payload))


def post(client, path: str, payload: dict, headers: dict):
    return client.http.post(path, headers=headers, body=json.dumps(payload))


def ok(resp, status: int = 200) -> dict:
    assert resp.status_code == status, resp.body
    return body(resp) if resp.body else {}
