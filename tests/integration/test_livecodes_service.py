"""Live code service against moto: AWS call budgets, warnings, events, persistence."""
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

import app as app_module
from bench.common import counting
from chalicelib import aws, dispatcher, events, media
from chalicelib.auth import service as auth
from chalicelib.livecodes import scans, service
from chalicelib.livecodes.consumers import check_expiring
from chalicelib.livecodes.models import LiveCode
from chalicelib.settings import get_settings
from devstack.drain import drain_all, drain_once
from tests.support.http_sink import Sink
from tests.support.images import png_b64


@pytest.fixture
def sink():
    s = Sink().start()
    yield s
    s.stop()


def new_code(tenant_id, **overrides):
    payload = {"name": "码", "channel": "ch", "targets": [
        {"kind": "group", "name": "g1", "capacity": 3, "image": png_b64()},
        {"kind": "group", "name": "g2", "capacity": 3, "image": png_b64(color=(1, 1, 1))}]}
    payload.update(overrides)
    return service.create(tenant_id, payload)


BROWSER = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
           "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47")


def visitor(result=None):
    cookie = result.set_cookie.split(";", 1)[0] if result else ""
    return service.Visitor(cookie_header=cookie, user_agent=BROWSER)


def test_scan_call_budget(tenant, monkeypatch):
    from chalicelib.livecodes import cache

    monkeypatch.setattr(cache, "_monotonic", lambda: 1000.0)  # warm: within the cache bound
    code = new_code(tenant["tenant_id"])
    with counting() as calls:  # a cold cache: the code's routing data is read once
        first = service.scan(code["slug"], visitor())
    assert first.assigned and calls.calls == {"GetItem": 1, "UpdateItem": 1, "SendMessage": 1}
    with counting() as calls:  # warm: the claim on a counter shard and the publish
        second = service.scan(code["slug"], visitor())
    assert second.assigned and calls.calls == {"UpdateItem": 1, "SendMessage": 1}
    with counting() as calls:
        again = service.scan(code["slug"], visitor(first))
    assert again.returning and not again.assigned and calls.calls == {"SendMessage": 1}


def test_scan_events_carry_the_codes_tags_at_no_extra_cost(tenant):
    from chalicelib.audience import consumers, users

    code = new_code(tenant["tenant_id"], tags=["VIP", "双11"])
    user = users.create_user(tenant["tenant_id"], {"openid": "oSCAN1"})
    with counting() as calls:
        service.scan(code["slug"], service.Visitor(user_agent=BROWSER, user_id=user["id"]))
    assert calls.calls == {"GetItem": 1, "UpdateItem": 1, "SendMessage": 1}
    sqs = aws.client("sqs")
    got = sqs.receive_message(QueueUrl=aws.queue_url(get_settings().events_queue),
                              MaxNumberOfMessages=10)["Messages"]
    payload = json.loads(got[0]["Body"])
    assert payload["tags"] == ["vip", "双11"] and payload["user_id"] == user["id"]
    with counting() as calls:
        consumers.tag_scanners([payload])
    assert calls.calls == {"TransactWriteItems": 1, "SendMessage": 1}  # no read of the code
    assert users.get_user(tenant["tenant_id"], user["id"])["tags"] == ["channel:ch", "vip", "双11"]


def test_scan_tagging_skips_anonymous_unknown_and_foreign_users(tenant, other_tenant):
    from chalicelib.audience import consumers, segments, users

    theirs = users.create_user(other_tenant["tenant_id"], {"openid": "oSCAN2"})
    base = {"tenant_id": tenant["tenant_id"], "code_id": "c0000000", "channel": "ch", "tags": ["vip"]}
    consumers.tag_scanners([{**base, "user_id": None}, {**base, "user_id": "nosuchuser00"},
                           {**base, "user_id": theirs["id"]}])
    assert users.get_user(other_tenant["tenant_id"], theirs["id"])["tags"] == []
    assert list(segments.iter_audience(tenant["tenant_id"], tags_all=["vip"])) == []
    # scan events published before codes had tags still tag the channel
    mine = users.create_user(tenant["tenant_id"], {"openid": "oSCAN3"})
    consumers.tag_scanners([{k: v for k, v in {**base, "user_id": mine["id"]}.items() if k != "tags"}])
    assert users.get_user(tenant["tenant_id"], mine["id"])["tags"] == ["channel:ch"]


def test_fill_order_then_fallback_then_nothing(tenant):
    code = new_code(tenant["tenant_id"], fallback={"kind": "staff", "name": "cs", "image": png_b64()})
    names = [service.scan(code["slug"], visitor()).target.name for _ in range(7)]
    assert names == ["g1"] * 3 + ["g2"] * 3 + ["cs"]
    stored = service.get(tenant["tenant_id"], code["id"])
    assert [t["assigned"] for t in stored["targets"]] == [3, 3]
    assert [t["status"] for t in stored["targets"]] == ["full", "full"]


def test_round_robin_and_weighted_through_storage(tenant):
    rr = new_code(tenant["tenant_id"], strategy="round_robin", targets=[
        {"kind": "url", "name": n, "url": f"https://e.x/{n}"} for n in "abc"])
    assert [service.scan(rr["slug"], visitor()).target.name for _ in range(6)] == list("abcabc")
    weighted = new_code(tenant["tenant_id"], strategy="weighted", targets=[
        {"kind": "url", "name": "never", "url": "https://e.x/n", "weight": 0},
        {"kind": "url", "name": "always", "url": "https://e.x/a", "weight": 5}])
    assert {service.scan(weighted["slug"], visitor()).target.name for _ in range(10)} == {"always"}


def test_windows_use_the_codes_timezone(tenant):
    code = new_code(tenant["tenant_id"], timezone="Asia/Shanghai",
                    windows=[{"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}],
                    fallback={"kind": "staff", "name": "夜间客服", "image": png_b64()})
    monday_10 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
    monday_20 = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    assert service.scan(code["slug"], visitor(), now=monday_10).target.name == "g1"
    late = service.scan(code["slug"], visitor(), now=monday_20)
    assert (late.target.name, late.reason) == ("夜间客服", "outside-hours")


def test_expired_target_is_skipped(tenant):
    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()
    code = new_code(tenant["tenant_id"], targets=[
        {"kind": "group", "name": "old", "image": png_b64(), "expires_at": past},
        {"kind": "group", "name": "new", "image": png_b64()}])
    assert service.scan(code["slug"], visitor()).target.name == "new"


def test_lost_race_rereads_and_moves_on(tenant):
    from chalicelib.livecodes import counters

    code = new_code(tenant["tenant_id"])
    stale = service.load(tenant["tenant_id"], code["id"])
    for _ in range(3):
        service.scan(code["slug"], visitor())  # fills g1 behind the stale copy's back
    counters.clear()  # another container: it knows nothing of g1 being full
    now = datetime.now(timezone.utc)
    today = now.astimezone(ZoneInfo(stale.timezone)).date().isoformat()
    with counting() as calls:
        placed = scans._place(stale, service.to_rules(stale), now, today, None, None)
    assert placed.assigned and placed.claimed is not None and placed.target.name == "g2"
    # the refused claim on g1, a consistent read of its shard, the claim on g2
    assert calls.calls == {"UpdateItem": 2, "GetItem": 1}
    assert [t["assigned"] for t in service.get(tenant["tenant_id"], code["id"])["targets"]] == [3, 1]


def _signature_ok(request, secret):
    ts = request.headers["X-Yutang-Timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), ts.encode() + b"." + request.body,
                                    hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, request.headers["X-Yutang-Signature"])


def test_capacity_warning_once_and_signed(tenant, sink):
    tid = tenant["tenant_id"]
    auth.update_tenant(tid, {"webhook_url": sink.url})
    code = new_code(tid, warn_threshold=2)
    for _ in range(6):
        service.scan(code["slug"], visitor())
        drain_all(app_module)
    warnings = [json.loads(r.body) for r in sink.requests]
    assert [w["type"] for w in warnings] == ["livecode.capacity_low"]
    assert warnings[0]["remaining"] == 2 and warnings[0]["livecode_id"] == code["id"]
    secret = auth.webhook_secret(auth.get_tenant(tid, max_age=0))
    assert _signature_ok(sink.requests[0], secret)
    service.add_target(tid, code["id"], {"kind": "group", "name": "g3", "capacity": 3,
                                         "image": png_b64()})
    for _ in range(2):
        service.scan(code["slug"], visitor())
        drain_all(app_module)
    assert len(sink.requests) == 2, "more capacity is a new condition: warned again when low again"


def test_failed_webhook_is_retried_not_lost(tenant, sink):
    tid = tenant["tenant_id"]
    auth.update_tenant(tid, {"webhook_url": sink.url})
    sink.statuses = [500]
    code = new_code(tid, warn_threshold=5, targets=[
        {"kind": "group", "name": "g", "capacity": 5, "image": png_b64()}])
    service.scan(code["slug"], visitor())
    handler = app_module.handle_events
    drain_once("yutang-events", handler, visibility_timeout=0, max_batches=1)
    assert len(sink.requests) == 1  # answered 500: the warning handler alone is retried
    drain_once("yutang-events", handler, visibility_timeout=0)
    assert [r.headers["X-Yutang-Event"] for r in sink.requests] == ["livecode.capacity_low"] * 2
    assert len({json.loads(r.body)["condition"] for r in sink.requests}) == 1


def test_expiry_warning_from_the_tick(tenant, sink):
    tid = tenant["tenant_id"]
    auth.update_tenant(tid, {"webhook_url": sink.url})
    soon = datetime.now(timezone.utc) + timedelta(hours=5)
    code = new_code(tid, targets=[
        {"kind": "group", "name": "soon", "image": png_b64(), "expires_at": soon.isoformat()},
        {"kind": "group", "name": "later", "image": png_b64()}])
    stored = service.load(tid, code["id"])
    assert stored.due_at == int((soon - timedelta(hours=24)).timestamp())
    assert check_expiring() >= 1
    assert check_expiring() == 0  # once per condition
    ours = [json.loads(r.body) for r in sink.requests if json.loads(r.body)["livecode_id"] == code["id"]]
    assert [w["target"]["name"] for w in ours] == ["soon"]
    later_due = service.load(tid, code["id"]).due_at
    assert later_due > int(datetime.now(timezone.utc).timestamp())  # next: the 7-day group image


def test_tick_handler_runs_through_the_app(tenant):
    from devstack.drain import scheduled_event

    assert app_module.tick(scheduled_event(), None) is not None


CALLS: dict[str, list[int]] = {"steady": [], "flaky": []}


def steady_handler(payloads):
    CALLS["steady"].append(payloads[0]["n"])


def flaky_handler(payloads):
    CALLS["flaky"].append(payloads[0]["n"])
    if payloads[0]["n"] == 2:
        raise RuntimeError("boom")


def test_only_the_failed_handler_is_retried(tenant, monkeypatch):
    monkeypatch.setitem(dispatcher.HANDLERS, "test", [f"{__name__}:steady_handler",
                                                  f"{__name__}:flaky_handler"])
    for calls in CALLS.values():
        calls.clear()
    for n in range(4):
        events.publish("test", {"n": n})
    handler = app_module.handle_events
    drain_once("yutang-events", handler, visibility_timeout=0, max_batches=1)
    assert sorted(CALLS["steady"]) == [0, 1, 2, 3] and sorted(CALLS["flaky"]) == [0, 1, 2, 3]
    for _ in range(3):
        drain_once("yutang-events", handler, visibility_timeout=0, max_batches=1)
    assert sorted(CALLS["steady"]) == [0, 1, 2, 3], "a succeeded handler never runs twice"
    assert CALLS["flaky"].count(2) == 4, "the failed handler is retried on its own"


def test_a_handler_that_keeps_failing_ends_in_the_dlq_with_its_error(tenant, monkeypatch):
    monkeypatch.setitem(dispatcher.HANDLERS, "test", [f"{__name__}:flaky_handler"])
    events.publish("test", {"n": 2, "tenant_id": tenant["tenant_id"]})
    for _ in range(dispatcher.MAX_HANDLER_ATTEMPTS + 1):
        drain_once("yutang-events", app_module.handle_events, visibility_timeout=0, max_batches=1)
    sqs = aws.client("sqs")
    dead = sqs.receive_message(QueueUrl=aws.queue_url("yutang-events-dlq"), MaxNumberOfMessages=10)
    bodies = [json.loads(m["Body"]) for m in dead.get("Messages", [])]
    assert len(bodies) == 1 and bodies[0]["_only"] == [f"{__name__}:flaky_handler"]
    assert "boom" in bodies[0]["_errors"][0] and bodies[0]["n"] == 2


def test_poison_message_ends_in_the_dlq(tenant):
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=aws.queue_url("yutang-events"), MessageBody="{not json")
    for _ in range(6):
        drain_once("yutang-events", app_module.handle_events, visibility_timeout=0, max_batches=1)
    dlq = sqs.receive_message(QueueUrl=aws.queue_url("yutang-events-dlq"), MaxNumberOfMessages=10)
    assert [m["Body"] for m in dlq.get("Messages", [])] == ["{not json"]


def test_snapshot_and_restore_round_trip(tenant, tmp_path):
    from devstack import persist

    code = new_code(tenant["tenant_id"])
    persist.write_snapshot(tmp_path, persist.dump_state(), seq=0)
    counts = persist.counts()
    assert counts["items"] >= 2 and counts["objects"] >= 1
    LiveCode.get(tenant["tenant_id"], code["id"]).delete()
    image_key = media.object_key(tenant["tenant_id"], "img",
                                 code["targets"][0]["image_url"].rsplit("/", 1)[1])
    aws.client("s3").delete_object(Bucket=get_settings().bucket, Key=image_key)
    persist.install_state(persist.read_snapshot(tmp_path)[0])
    restored = service.get(tenant["tenant_id"], code["id"])
    assert restored["targets"] == code["targets"]
    assert media.get(image_key) is not None


def test_target_edits_move_the_code_in_the_due_index_without_rereading(tenant):
    tid = tenant["tenant_id"]
    code = new_code(tid, targets=[{"kind": "url", "name": "u", "url": "https://e.x"}])
    assert service.load(tid, code["id"]).due_at is None
    soon = datetime.now(timezone.utc) + timedelta(hours=30)
    added = service.add_target(tid, code["id"], {"kind": "group", "name": "g", "image": png_b64(),
                                                  "expires_at": soon.isoformat()})
    assert service.load(tid, code["id"]).due_at == int((soon - timedelta(hours=24)).timestamp())
    later = soon + timedelta(days=2)
    with counting() as calls:
        view = service.update_target(tid, code["id"], added["id"], {"expires_at": later.isoformat()})
    assert view["expires_at"] == later.isoformat()
    assert calls.calls["GetItem"] == 1, calls.calls  # the update's ALL_NEW answer is reused
    assert service.load(tid, code["id"]).due_at == int((later - timedelta(hours=24)).timestamp())
