"""An import racing live identity registrations: the import checks who holds a chunk's identities
(one BatchGet), then writes its new users. A live request that registers one of those identities
in between must neither lose its identity to the imported user nor leave the person with two
users: the import's conditional transaction fails for that row, which then joins the live user."""
from __future__ import annotations

from chalicelib.audience import bulk
from chalicelib.audience import users as audience
from chalicelib.audience.models import AudienceItem as Item
from tests.support import portability as p


def _users_holding(tenant_id: str, kind: str, value: str) -> list[str]:
    return [u.user_id for u in Item.query(tenant_id, Item.sk.startswith(Item.user_key("")))
            if not u.merged_into and u.identities and u.identities.as_dict().get(kind) == value]


def _register_live_between_check_and_write(monkeypatch, tenant_id: str, registrations: list) -> dict:
    """Run each live registration right after the import's ownership check (once)."""
    live: dict = {}
    original = bulk.owners

    def owners_then_a_live_request(*args, **kwargs):
        found = original(*args, **kwargs)
        while registrations:
            identities, tags = registrations.pop(0)
            live[next(iter(identities.values()))] = audience.create_user(tenant_id, identities, tags)
        return found

    monkeypatch.setattr(bulk, "owners", owners_then_a_live_request)
    return live


def test_a_live_registration_between_check_and_write_is_neither_lost_nor_duplicated(
        app_client, tenant, monkeypatch):
    tid = tenant["tenant_id"]
    live = _register_live_between_check_and_write(monkeypatch, tid, [
        ({"openid": "o-race-1"}, ["live"]),            # the row's only identity
        ({"unionid": "u-race-2"}, ["live"]),           # the row's second identity
    ])
    content = ("openid,unionid,tags\n"
               "o-calm-1,u-calm-1,imported\n"
               "o-race-1,,imported\n"
               "o-race-2,u-race-2,imported\n"
               "o-calm-2,,imported\n")
    job = p.run_import(app_client, tenant, "users", content)
    assert (job["status"], job["rows_ok"], job["rows_failed"]) == ("done", 4, 0), job

    first = audience.find_user(tid, "openid", "o-race-1")
    assert first["id"] == live["o-race-1"]["id"]                 # the live user kept its identity
    assert first["tags"] == ["imported", "live"]                 # and the row joined it
    assert _users_holding(tid, "openid", "o-race-1") == [first["id"]]

    second = audience.find_user(tid, "unionid", "u-race-2")
    assert second["id"] == live["u-race-2"]["id"]
    assert audience.find_user(tid, "openid", "o-race-2")["id"] == second["id"]
    assert second["tags"] == ["imported", "live"]
    assert _users_holding(tid, "unionid", "u-race-2") == [second["id"]]

    for openid in ("o-calm-1", "o-calm-2"):                      # the rest of the chunk is written
        assert audience.find_user(tid, "openid", openid)["tags"] == ["imported"]
    people = Item.query(tid, Item.sk.startswith(Item.user_key("")))
    assert sum(1 for u in people if not u.merged_into) == 4


def test_create_users_hands_back_only_the_raced_users(aws_stack, tenant):
    tid = tenant["tenant_id"]
    taken = audience.create_user(tid, {"brand_user_id": "b-taken"})
    users = [bulk.NewUser({"openid": f"o-bulk-{i}"}, ["t"]) for i in range(30)]
    users[17] = bulk.NewUser({"openid": "o-bulk-17", "brand_user_id": "b-taken"}, ["t"])
    assert bulk.create_users(tid, users) == [17]                 # several transactions of ≤ 100
    assert audience.find_user(tid, "brand_user_id", "b-taken")["id"] == taken["id"]
    assert audience.find_user(tid, "openid", "o-bulk-17") is None
    assert all(audience.find_user(tid, "openid", f"o-bulk-{i}") for i in range(30) if i != 17)
