"""Claim counters, daily capacity, backup targets and the routing-data cache, against moto:
migration of codes from before the counters, edits within the cache bound, capacity changes."""
from __future__ import annotations

import pytest

from bench.common import counting
from chalicelib.livecodes import cache, counters, service
from chalicelib.livecodes.models import ClaimCounter, LiveCode
from tests.support.images import png_b64

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.47"


def visitor(result=None):
    cookie = result.set_cookie.split(";", 1)[0] if result else ""
    return service.Visitor(cookie_header=cookie, user_agent=PHONE)


def group(name, **kw):
    return {"kind": "group", "name": name, "image": png_b64(), **kw}


def scan_names(slug, n):
    return [(r.target.name if r.target else None) for r in
            (service.scan(slug, visitor()) for _ in range(n))]


def test_a_code_from_before_the_counters_keeps_its_counts(tenant):
    tid = tenant["tenant_id"]
    code = service.create(tid, {"name": "old", "channel": "c", "targets": [
        group("g1", capacity=3), group("g2", capacity=3)]})
    stored = LiveCode.get(tid, code["id"])
    for t in stored.targets:  # as the code was stored before: counts in the item, no counters
        for pk in counters.keys(tid, code["id"], t):
            ClaimCounter(pk=pk).delete()
    # written as another (older) container would: not through this container's model instance
    LiveCode.table().update_item(tid, code["id"], actions=[
        LiveCode.targets[0]["assigned"].set({"N": "2"}), LiveCode.targets[1]["assigned"].set({"N": "1"})])
    cache.clear()
    counters.clear()
    assert [t["assigned"] for t in service.get(tid, code["id"])["targets"]] == [2, 1]
    with counting() as calls:
        first = service.scan(code["slug"], visitor())
    # the refused claim finds no counter: the code is read consistently and its shards created
    assert first.target.name == "g1" and calls.calls["PutItem"] == 1
    assert scan_names(code["slug"], 3) == ["g2", "g2", None]
    view = service.get(tid, code["id"])
    assert [t["assigned"] for t in view["targets"]] == [3, 3]
    assert [t["status"] for t in view["targets"]] == ["full", "full"]
    assert view["remaining_capacity"] == 0


def test_edits_from_another_container_show_within_the_cache_bound(tenant, monkeypatch):
    tid = tenant["tenant_id"]
    code = service.create(tid, {"name": "c", "channel": "c", "targets": [
        {"kind": "url", "name": "a", "url": "https://e.x/a"},
        {"kind": "url", "name": "b", "url": "https://e.x/b"}]})
    clock = [1000.0]
    monkeypatch.setattr(cache, "_monotonic", lambda: clock[0])
    assert scan_names(code["slug"], 1) == ["a"]
    LiveCode.table().update_item(tid, code["id"], actions=[  # another container disables "a"
        LiveCode.targets[0]["enabled"].set({"BOOL": False})])
    clock[0] += 0.99
    with counting() as calls:
        assert scan_names(code["slug"], 1) == ["a"]  # the cached copy, still within 1 s
    assert "GetItem" not in calls.calls
    clock[0] += 0.02
    with counting() as calls:
        assert scan_names(code["slug"], 1) == ["b"]
    assert calls.calls["GetItem"] == 1
    service.update_target(tid, code["id"], code["targets"][0]["id"], {"enabled": True})
    assert scan_names(code["slug"], 1) == ["a"]  # an edit in this container: at once


def test_the_cache_bound_is_a_setting(tenant, monkeypatch):
    from chalicelib.settings import reset_settings

    code = service.create(tenant["tenant_id"], {"name": "c", "channel": "c", "targets": [
        {"kind": "url", "name": "a", "url": "https://e.x/a"}]})
    monkeypatch.setenv("YUTANG_LIVECODE_CACHE_SECONDS", "0")
    reset_settings()
    try:
        for _ in range(2):
            with counting() as calls:
                service.scan(code["slug"], visitor())
            assert calls.calls == {"GetItem": 1, "SendMessage": 1}
    finally:
        monkeypatch.delenv("YUTANG_LIVECODE_CACHE_SECONDS")
        reset_settings()


def test_capacity_changes_move_the_counters_caps(tenant):
    tid = tenant["tenant_id"]
    code = service.create(tid, {"name": "c", "channel": "c", "targets": [group("g", capacity=2)]})
    target_id = code["targets"][0]["id"]
    assert scan_names(code["slug"], 3) == ["g", "g", None]
    raised = service.update_target(tid, code["id"], target_id, {"capacity": 4})
    assert (raised["assigned"], raised["status"]) == (2, "active")
    assert scan_names(code["slug"], 3) == ["g", "g", None]
    lowered = service.update_target(tid, code["id"], target_id, {"capacity": 1})
    assert (lowered["assigned"], lowered["status"]) == (4, "full")
    reset = service.update_target(tid, code["id"], target_id, {"capacity": 3, "assigned": 1})
    assert (reset["assigned"], reset["status"]) == (1, "active")
    assert scan_names(code["slug"], 3) == ["g", "g", None]


def test_a_large_capacity_is_sharded_and_grows_its_shards(tenant, monkeypatch):
    monkeypatch.setattr(counters, "SHARD_SIZE", 10)
    tid = tenant["tenant_id"]
    code = service.create(tid, {"name": "c", "channel": "c", "targets": [group("g", capacity=25)]})
    stored = LiveCode.get(tid, code["id"])
    shards = counters.read(tid, code["id"], stored.targets)
    assert sorted(s.cap for s in shards.values()) == [8, 8, 9]
    assert scan_names(code["slug"], 26).count("g") == 25
    service.update_target(tid, code["id"], code["targets"][0]["id"], {"capacity": 45})
    stored = LiveCode.get(tid, code["id"])
    assert int(stored.targets[0].shards) == 5
    assert scan_names(code["slug"], 21).count("g") == 20
    assert service.get(tid, code["id"])["targets"][0]["assigned"] == 45


def test_daily_capacity_input_and_view(tenant):
    code = service.create(tenant["tenant_id"], {"name": "c", "channel": "c", "targets": [
        {"kind": "staff", "name": "s", "image": png_b64(), "daily_capacity": 2},
        {"kind": "staff", "name": "bk", "image": png_b64(), "backup": True}]})
    first, backup = code["targets"]
    assert (first["daily_capacity"], first["assigned_today"], first["backup"]) == (2, 0, False)
    assert backup["backup"] is True and backup["daily_capacity"] is None
    assert scan_names(code["slug"], 3) == ["s", "s", "bk"]
    view = service.get(tenant["tenant_id"], code["id"])["targets"][0]
    assert (view["assigned_today"], view["status"]) == (2, "full_today")


@pytest.mark.parametrize("bad", [0, -1, "x", True, 1_000_001])
def test_daily_capacity_is_validated(tenant, bad):
    from chalicelib.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        service.create(tenant["tenant_id"], {"name": "c", "channel": "c", "targets": [
            {"kind": "url", "name": "u", "url": "https://e.x/", "daily_capacity": bad}]})


def test_deleting_targets_and_codes_deletes_their_counters(tenant):
    tid = tenant["tenant_id"]
    code = service.create(tid, {"name": "c", "channel": "c", "targets": [
        group("g1", capacity=3), group("g2", capacity=3)]})
    stored = LiveCode.get(tid, code["id"])
    assert len(counters.read(tid, code["id"], stored.targets)) == 2
    service.delete_target(tid, code["id"], code["targets"][0]["id"])
    assert len(counters.read(tid, code["id"], stored.targets)) == 1
    service.delete(tid, code["id"])
    assert counters.read(tid, code["id"], stored.targets) == {}


def test_the_alerts_count_claims_on_the_counters(tenant):
    from chalicelib.analytics import insight

    tid = tenant["tenant_id"]
    code = service.create(tid, {"name": "c", "channel": "c", "targets": [group("g", capacity=3)]})
    scan_names(code["slug"], 3)
    kinds = [a["kind"] for a in insight.alerts(tid)["items"]]
    assert kinds == ["target_full"]
