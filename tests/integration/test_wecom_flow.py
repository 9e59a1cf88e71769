"""企业微信-backed live codes end to end against the fake server and moto: ways created, updated and
cleaned up; callbacks attribute, tag, count and welcome once; member changes drive capacity."""
import pytest

from chalicelib import media
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.livecodes import service
from chalicelib.wecom import attribution, callbacks, client, consumers, integration, stats
from chalicelib.wecom.models import WecomChatLink
from devstack.fake_wecom import chat_members_changed, contact_added, contact_removed
from tests.support.images import png_b64
from tests.support.wecom import CORP_ID, configure, drain, fake_wecom  # noqa: F401


@pytest.fixture
def tid(fake_wecom, tenant):  # noqa: F811
    configure(tenant["tenant_id"])
    return tenant["tenant_id"]


def staff_code(tid, **extra):
    body = {"name": "福利", "channel": "offline-poster", "strategy": "fill",
            "welcome": {"text": "欢迎加入鱼塘!"},
            "targets": [{"kind": "staff", "name": "客服小鱼", "wecom_user_ids": ["zhangsan"],
                         "skip_verify": False}], **extra}
    return service.create(tid, body)


def deliver(tid, fields):
    """What the route does (verify, decrypt, enqueue), then the consumer, via the real queue."""
    from tests.support.wecom import callback

    signed = callback(fields)
    callbacks.receive(tid, signed.query, signed.body.encode())
    return drain()


def test_staff_target_creates_a_contact_way_with_state_and_qr(tid, fake_wecom):  # noqa: F811
    code = staff_code(tid)
    target = code["targets"][0]
    way = fake_wecom.contact_ways[target["wecom"]["config_id"]]
    assert way == {"type": 1, "scene": 2, "skip_verify": False, "user": ["zhangsan"],
                   "state": f"yt{code['id']}{target['id']}", "remark": "客服小鱼"}
    assert len(way["state"]) <= 30
    assert target["wecom"]["qr_code"].startswith(fake_wecom.url)
    assert target["image_url"].startswith("http://testserver/m/")  # served from our host
    key = target["image_url"].split("/m/", 1)[1]
    tenant, folder, name = key.split("/")
    data, content_type = media.read_public(tenant, folder, name)
    assert content_type == "image/png" and data.startswith(b"\x89PNG")


def test_several_staff_make_a_multi_way(tid, fake_wecom):  # noqa: F811
    code = service.create(tid, {"name": "x", "channel": "c", "targets": [
        {"kind": "staff", "name": "team", "wecom_user_ids": ["a", "b", "c"]}]})
    way = fake_wecom.contact_ways[code["targets"][0]["wecom"]["config_id"]]
    assert way["type"] == 2 and way["user"] == ["a", "b", "c"] and way["skip_verify"] is True


def test_update_and_delete_call_the_way_apis(tid, fake_wecom):  # noqa: F811
    code = staff_code(tid)
    target = code["targets"][0]
    config_id = target["wecom"]["config_id"]
    updated = service.update_target(tid, code["id"], target["id"],
                                    {"wecom_user_ids": ["lisi"], "skip_verify": True, "name": "新客服"})
    assert fake_wecom.contact_ways[config_id]["user"] == ["lisi"]
    assert fake_wecom.contact_ways[config_id]["skip_verify"] is True
    assert updated["wecom"]["user_ids"] == ["lisi"] and updated["name"] == "新客服"
    assert updated["image_url"] == target["image_url"]  # the way's QR does not change
    with pytest.raises(ValidationFailed) as err:  # single → multi is not something 企业微信 does
        service.update_target(tid, code["id"], target["id"], {"wecom_user_ids": ["lisi", "wangwu"]})
    assert err.value.field == "wecom_user_ids"
    with pytest.raises(ValidationFailed):
        service.update_target(tid, code["id"], target["id"], {"image": png_b64()})
    assert fake_wecom.contact_ways[config_id]["user"] == ["lisi"]
    service.delete_target(tid, code["id"], target["id"])
    assert config_id not in fake_wecom.contact_ways


def test_deleting_a_code_deletes_its_ways_including_the_fallback(tid, fake_wecom):  # noqa: F811
    code = staff_code(tid, fallback={"kind": "staff", "name": "值班", "wecom_user_ids": ["duty"]})
    assert len(fake_wecom.contact_ways) == 2
    service.delete(tid, code["id"])
    assert fake_wecom.contact_ways == {}


def test_replacing_the_fallback_deletes_the_old_way(tid, fake_wecom):  # noqa: F811
    code = staff_code(tid, fallback={"kind": "staff", "name": "值班", "wecom_user_ids": ["duty"]})
    old = code["fallback"]["wecom"]["config_id"]
    service.update(tid, code["id"], {"fallback": {"kind": "staff", "name": "夜班",
                                                  "wecom_user_ids": ["night"]}})
    assert old not in fake_wecom.contact_ways and len(fake_wecom.contact_ways) == 2


def test_a_refused_second_target_leaves_nothing_behind(tid, fake_wecom):  # noqa: F811
    from chalicelib.livecodes.models import LiveCode

    fake_wecom.users = {"zhangsan"}
    with pytest.raises(client.WecomRejected) as err:
        service.create(tid, {"name": "x", "channel": "c", "targets": [
            {"kind": "staff", "name": "ok", "wecom_user_ids": ["zhangsan"]},
            {"kind": "staff", "name": "bad", "wecom_user_ids": ["nobody"]}]})
    assert err.value.errcode == 40003 and err.value.status == 422
    assert fake_wecom.contact_ways == {} and LiveCode.count(tid) == 0
    assert len(fake_wecom.calls_to("/del_contact_way")) == 1


def test_a_way_whose_qr_cannot_be_fetched_is_deleted(tid, fake_wecom, monkeypatch):  # noqa: F811
    from chalicelib import fetch

    def refuse(url, max_bytes, timeout=5.0):
        raise fetch.FetchRefused("nope")

    monkeypatch.setattr(fetch, "get_bytes", refuse)
    code = service.create(tid, {"name": "x", "channel": "c", "targets": []})
    with pytest.raises(client.WecomRetryable):
        service.add_target(tid, code["id"], {"kind": "staff", "name": "s", "wecom_user_ids": ["a"]})
    assert fake_wecom.contact_ways == {} and service.get(tid, code["id"])["targets"] == []


def test_a_tenant_without_settings_gets_a_clear_conflict(fake_wecom, tenant):  # noqa: F811
    with pytest.raises(integration.NotConfigured) as err:
        staff_code(tenant["tenant_id"])
    assert err.value.status == 409 and fake_wecom.calls == []


@pytest.mark.parametrize("target,field", [
    ({"kind": "url", "name": "u", "url": "https://x.example", "wecom_user_ids": ["a"]}, "wecom_user_ids"),
    ({"kind": "staff", "name": "s", "wecom_chat_ids": ["c"]}, "wecom_chat_ids"),
    ({"kind": "group", "name": "g", "wecom_user_ids": ["a"]}, "wecom_user_ids"),
    ({"kind": "staff", "name": "s", "skip_verify": True}, "wecom_user_ids"),
    ({"kind": "staff", "name": "s", "wecom_user_ids": []}, "wecom_user_ids"),
    ({"kind": "staff", "name": "s", "wecom_user_ids": ["a", "a"]}, "wecom_user_ids"),
    ({"kind": "staff", "name": "s", "wecom_user_ids": ["a b"]}, "wecom_user_ids"),
    ({"kind": "group", "name": "g", "wecom_chat_ids": ["1", "2", "3", "4", "5", "6"]}, "wecom_chat_ids"),
    ({"kind": "staff", "name": "s", "wecom_user_ids": ["a"], "image": png_b64()}, "image"),
])
def test_bad_wecom_options_change_nothing(tid, fake_wecom, target, field):  # noqa: F811
    with pytest.raises(ValidationFailed) as err:
        service.create(tid, {"name": "x", "channel": "c", "targets": [target]})
    assert err.value.field == field
    assert fake_wecom.calls_to("/add_contact_way") == [] and fake_wecom.calls_to("add_join_way") == []


def test_add_contact_callback_attributes_tags_counts_and_welcomes(tid, fake_wecom):  # noqa: F811
    code = staff_code(tid)
    target = code["targets"][0]
    welcome = fake_wecom.new_welcome_code()
    fields = contact_added(CORP_ID, "zhangsan", "wmCUSTOMER1", target["wecom"]["state"], welcome)
    assert deliver(tid, fields) == 2  # the callback, then the audience's user_event
    assert fake_wecom.welcomes == [{"welcome_code": welcome, "text": {"content": "欢迎加入鱼塘!"}}]
    contact = attribution.get_contact(tid, "wmCUSTOMER1")
    assert contact["channel"] == "offline-poster" and contact["code_id"] == code["id"]
    assert contact["target_id"] == target["id"] and contact["staff"] == ["zhangsan"]
    assert contact["tags"] == ["channel:offline-poster", f"livecode:{code['id']}"]
    assert [e["type"] for e in contact["events"]] == ["joined_staff"]
    counted = stats.livecode_stats(service.load(tid, code["id"]), None, None)
    assert counted["adds"] == 1 and counted["targets"][0] == {"id": target["id"], "adds": 1,
                                                              "group_joins": 0}

    # 企业微信 retries the same callback: nothing changes
    assert deliver(tid, fields) == 1
    assert len(fake_wecom.welcomes) == 1
    assert attribution.get_contact(tid, "wmCUSTOMER1") == contact
    assert stats.livecode_stats(service.load(tid, code["id"]), None, None) == counted


def test_removal_is_recorded_and_counted(tid, fake_wecom):  # noqa: F811
    code = staff_code(tid)
    state = code["targets"][0]["wecom"]["state"]
    deliver(tid, contact_added(CORP_ID, "zhangsan", "wmC2", state, create_time=1_700_000_000))
    deliver(tid, contact_removed(CORP_ID, "zhangsan", "wmC2", "del_follow_user",
                                 create_time=1_700_000_100))
    contact = attribution.get_contact(tid, "wmC2")
    assert contact["status"] == "removed" and contact["staff"] == []
    assert [e["type"] for e in contact["events"]] == ["left_staff", "joined_staff"]
    counted = stats.livecode_stats(service.load(tid, code["id"]), "2023-11-01", "2023-11-30")
    assert counted["adds"] == 1 and counted["removals"] == 1


def test_a_foreign_state_still_records_the_customer_without_attribution(tid, fake_wecom):  # noqa: F811
    deliver(tid, contact_added(CORP_ID, "zhangsan", "wmC3", "from-somewhere-else",
                               fake_wecom.new_welcome_code()))
    contact = attribution.get_contact(tid, "wmC3")
    assert contact["channel"] is None and contact["tags"] == [] and fake_wecom.welcomes == []


def test_a_late_welcome_is_logged_not_retried(tid, fake_wecom):  # noqa: F811
    code = staff_code(tid)
    fields = contact_added(CORP_ID, "zhangsan", "wmC4", code["targets"][0]["wecom"]["state"],
                           "WELCOMEexpired")
    assert deliver(tid, fields) == 2  # 41051 from 企业微信; the attribution still happens
    assert attribution.get_contact(tid, "wmC4")["channel"] == "offline-poster"


def test_a_failing_event_is_released_and_retried(tid, fake_wecom, monkeypatch):  # noqa: F811
    code = staff_code(tid)
    fields = contact_added(CORP_ID, "zhangsan", "wmC5", code["targets"][0]["wecom"]["state"])
    eid = callbacks.event_id({k: str(v) for k, v in fields.items()})
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("DynamoDB hiccup")
        return original(*args, **kwargs)

    original = attribution.contact_added
    monkeypatch.setattr(attribution, "contact_added", flaky)
    message = {k: str(v) for k, v in fields.items()}
    with pytest.raises(RuntimeError):
        consumers.handle(tid, eid, message)
    assert consumers.handle(tid, eid, message) is True
    assert consumers.handle(tid, eid, message) is False
    assert attribution.get_contact(tid, "wmC5")["channel"] == "offline-poster"


def group_code(tid, fake, chats=("wrA", "wrB"), **options):
    for chat in chats:
        fake.add_chat(chat, customers=0)
    return service.create(tid, {"name": "群", "channel": "moments", "strategy": "fill", "targets": [
        {"kind": "group", "name": "福利群", "wecom_chat_ids": list(chats), **options},
        {"kind": "url", "name": "官网", "url": "https://example.com"}]})


def test_group_target_creates_a_join_way_and_counts_real_members(tid, fake_wecom):  # noqa: F811
    code = group_code(tid, fake_wecom, room_base_name="福利群", auto_create_room=False)
    target = code["targets"][0]
    way = fake_wecom.join_ways[target["wecom"]["config_id"]]
    assert way["scene"] == 2 and way["chat_id_list"] == ["wrA", "wrB"]
    assert way["state"] == f"yt{code['id']}{target['id']}" and way["auto_create_room"] == 0
    assert target["capacity"] == 400 and target["assigned"] == 2  # two owners
    assert target["expires_at"] is None and target["image_url"].startswith("http://testserver/m/")
    links = list(WecomChatLink.query(tid))
    assert sorted(link.sk.split("#")[0] for link in links) == ["wrA", "wrB"]


def test_member_changes_drive_group_capacity(tid, fake_wecom):  # noqa: F811
    from chalicelib.livecodes.models import LiveCode

    code = group_code(tid, fake_wecom, capacity=5)
    target = code["targets"][0]
    state = target["wecom"]["state"]
    for i in range(3):
        fake_wecom.join_chat("wrA", f"wmG{i}", state=state)
    deliver(tid, chat_members_changed(CORP_ID, "wrA", "add_member", ["wmG0", "wmG1", "wmG2"]))
    after = service.get(tid, code["id"])["targets"][0]
    assert after["assigned"] == 5 and after["status"] == "full"
    assert after["wecom"]["members"] == {"wrA": 4, "wrB": 1}
    # a scan now goes past the full group to the next target
    result = service.scan(service.slug_for(tid, code["id"]), service.Visitor())
    assert result.target.kind == "url"
    joined = attribution.get_contact(tid, "wmG1")
    assert joined["channel"] == "moments" and joined["events"][0]["type"] == "joined_group"
    counted = stats.livecode_stats(service.load(tid, code["id"]), None, None)
    assert counted["group_joins"] == 3

    fake_wecom.leave_chat("wrA", "wmG0")
    fake_wecom.leave_chat("wrA", "wmG1")
    deliver(tid, chat_members_changed(CORP_ID, "wrA", "del_member", ["wmG0", "wmG1"]))
    again = service.get(tid, code["id"])["targets"][0]
    assert again["assigned"] == 3 and again["status"] == "active"
    # scans count optimistically in between; the next member event puts the real count back
    service.scan(service.slug_for(tid, code["id"]), service.Visitor())
    assert LiveCode.get(tid, code["id"]).targets[0].assigned == 3  # the base: the real count
    assert service.get(tid, code["id"])["targets"][0]["assigned"] == 4  # + the claim on a counter
    fake_wecom.join_chat("wrB", "staff2", customer=False)
    deliver(tid, chat_members_changed(CORP_ID, "wrB", "add_member", ["staff2"]))
    assert service.get(tid, code["id"])["targets"][0]["assigned"] == 4
    assert service.get(tid, code["id"])["targets"][0]["wecom"]["members"] == {"wrA": 2, "wrB": 2}
    fake_wecom.leave_chat("wrB", "staff2")
    deliver(tid, chat_members_changed(CORP_ID, "wrB", "del_member", ["staff2"]))
    assert service.get(tid, code["id"])["targets"][0]["assigned"] == 3


def test_a_replayed_member_change_is_handled_once(tid, fake_wecom):  # noqa: F811
    code = group_code(tid, fake_wecom)
    state = code["targets"][0]["wecom"]["state"]
    fake_wecom.join_chat("wrB", "wmR1", state=state)
    fields = chat_members_changed(CORP_ID, "wrB", "add_member", ["wmR1"])
    deliver(tid, fields)
    calls = len(fake_wecom.calls_to("/groupchat/get"))
    deliver(tid, fields)
    assert len(fake_wecom.calls_to("/groupchat/get")) == calls
    assert stats.livecode_stats(service.load(tid, code["id"]), None, None)["group_joins"] == 1


def test_group_way_update_and_cleanup(tid, fake_wecom):  # noqa: F811
    code = group_code(tid, fake_wecom)
    fake_wecom.add_chat("wrC", customers=9)
    target = code["targets"][0]
    config_id = target["wecom"]["config_id"]
    updated = service.update_target(tid, code["id"], target["id"], {"wecom_chat_ids": ["wrB", "wrC"]})
    assert fake_wecom.join_ways[config_id]["chat_id_list"] == ["wrB", "wrC"]
    assert updated["assigned"] == 11 and updated["wecom"]["members"] == {"wrB": 1, "wrC": 10}
    assert sorted(link.sk.split("#")[0] for link in WecomChatLink.query(tid)) == ["wrB", "wrC"]
    with pytest.raises(ValidationFailed):
        service.update_target(tid, code["id"], target["id"], {"assigned": 0})
    service.delete(tid, code["id"])
    assert fake_wecom.join_ways == {} and list(WecomChatLink.query(tid)) == []


def test_a_failed_delete_is_retried_through_the_queue(tid, fake_wecom):  # noqa: F811
    code = staff_code(tid)
    config_id = code["targets"][0]["wecom"]["config_id"]
    fake_wecom.fail_next("/del_contact_way", 45009, "api freq out of limit")
    service.delete(tid, code["id"])
    assert config_id in fake_wecom.contact_ways
    assert drain() == 1
    assert config_id not in fake_wecom.contact_ways


def test_events_of_one_tenant_never_touch_another(tid, fake_wecom, other_tenant):  # noqa: F811
    code = staff_code(tid)
    configure(other_tenant["tenant_id"])
    state = code["targets"][0]["wecom"]["state"]
    deliver(other_tenant["tenant_id"], contact_added(CORP_ID, "zhangsan", "wmX", state))
    contact = attribution.get_contact(other_tenant["tenant_id"], "wmX")
    assert contact["code_id"] is None and contact["channel"] is None  # not tenant A's code
    assert stats.livecode_stats(service.load(tid, code["id"]), None, None)["adds"] == 0


# ---- attribution through the audience ---------------------------------------------------------

def test_an_add_makes_an_audience_user_tagged_with_channel_code_and_auto_tags(tid, fake_wecom):  # noqa: F811
    from chalicelib.audience import activity, segments, users

    code = staff_code(tid, tags=["VIP", " 双11 "])
    deliver(tid, contact_added(CORP_ID, "zhangsan", "wmAUD1", code["targets"][0]["wecom"]["state"]))
    user = users.find_user(tid, "external_userid", "wmAUD1")
    assert user["stage"] == "new" and user["identities"] == {"external_userid": "wmAUD1"}
    assert user["tags"] == sorted(["channel:offline-poster", f"livecode:{code['id']}", "vip", "双11"])
    assert all(d["sources"] == ["channel"] for d in user["tag_details"].values())
    events = activity.list_events(tid, user["id"])
    assert [e["type"] for e in events] == ["joined_staff"]
    assert events[0]["properties"]["code_id"] == code["id"]
    assert attribution.get_contact(tid, "wmAUD1")["user_id"] == user["id"]
    # audiences resolve from the tag index: the code's auto-tag finds the customer
    assert list(segments.iter_audience(tid, tags_all=["vip"])) == [user["id"]]


def test_an_add_merges_with_the_known_mini_program_user_by_unionid(tid, fake_wecom):  # noqa: F811
    from chalicelib.audience import users

    known = users.create_user(tid, {"openid": "oMP1", "unionid": "uUNION1"}, tags=["fan"])
    fake_wecom.add_customer("wmAUD2", unionid="uUNION1")
    code = staff_code(tid)
    deliver(tid, contact_added(CORP_ID, "zhangsan", "wmAUD2", code["targets"][0]["wecom"]["state"]))
    user = users.find_user(tid, "external_userid", "wmAUD2")
    assert user["id"] == known["id"]
    assert user["identities"] == {"openid": "oMP1", "unionid": "uUNION1", "external_userid": "wmAUD2"}
    assert {"fan", "channel:offline-poster"} <= set(user["tags"])
    assert fake_wecom.calls_to("/externalcontact/get")[0]["query"]["external_userid"] == "wmAUD2"


def test_a_group_joiner_known_first_is_merged_when_the_unionid_shows_up(tid, fake_wecom):  # noqa: F811
    from chalicelib.audience import activity, users

    older = users.create_user(tid, {"openid": "oMP2", "unionid": "uUNION2"})
    code = group_code(tid, fake_wecom)
    fake_wecom.join_chat("wrA", "wmAUD3", state=code["targets"][0]["wecom"]["state"])
    deliver(tid, chat_members_changed(CORP_ID, "wrA", "add_member", ["wmAUD3"]))
    joiner = users.find_user(tid, "external_userid", "wmAUD3")
    assert joiner["id"] != older["id"] and "channel:moments" in joiner["tags"]

    fake_wecom.add_customer("wmAUD3", unionid="uUNION2")
    staff = staff_code(tid)
    deliver(tid, contact_added(CORP_ID, "zhangsan", "wmAUD3", staff["targets"][0]["wecom"]["state"]))
    merged = users.find_user(tid, "external_userid", "wmAUD3")
    assert merged["id"] == older["id"] and merged["merged_from"] == [joiner["id"]]
    assert {"channel:moments", "channel:offline-poster"} <= set(merged["tags"])
    assert sorted(e["type"] for e in activity.list_events(tid, older["id"])) == ["joined_group",
                                                                                 "joined_staff"]
    # the first attribution (the group code) still wins on the contact record
    assert attribution.get_contact(tid, "wmAUD3")["code_id"] == code["id"]


def test_a_member_unionid_from_groupchat_get_merges_without_another_call(tid, fake_wecom):  # noqa: F811
    from chalicelib.audience import users

    known = users.create_user(tid, {"openid": "oMP3", "unionid": "uUNION3"})
    code = group_code(tid, fake_wecom)
    fake_wecom.join_chat("wrB", "wmAUD4", state=code["targets"][0]["wecom"]["state"],
                         unionid="uUNION3")
    deliver(tid, chat_members_changed(CORP_ID, "wrB", "add_member", ["wmAUD4"]))
    assert users.find_user(tid, "external_userid", "wmAUD4")["id"] == known["id"]
    assert fake_wecom.calls_to("/externalcontact/get") == []


def test_removals_are_left_staff_events_saying_who_removed_whom(tid, fake_wecom):  # noqa: F811
    from chalicelib.audience import activity, users

    code = staff_code(tid)
    state = code["targets"][0]["wecom"]["state"]
    deliver(tid, contact_added(CORP_ID, "zhangsan", "wmAUD5", state, create_time=1_700_000_000))
    deliver(tid, contact_removed(CORP_ID, "zhangsan", "wmAUD5", "del_external_contact",
                                 create_time=1_700_000_100))
    user = users.find_user(tid, "external_userid", "wmAUD5")
    left = activity.list_events(tid, user["id"])[0]
    assert left["type"] == "left_staff" and left["properties"]["removed_by"] == "staff"
    assert left["properties"]["code_id"] == code["id"]
    # a customer known only to the audience still gets the event; nothing else is created
    users.create_user(tid, {"external_userid": "wmAUD6"})
    assert deliver(tid, contact_removed(CORP_ID, "lisi", "wmAUD6", "del_follow_user")) == 2
    other = users.find_user(tid, "external_userid", "wmAUD6")
    assert activity.list_events(tid, other["id"])[0]["properties"]["removed_by"] == "customer"
    with pytest.raises(NotFound):
        attribution.get_contact(tid, "wmAUD6")


def test_an_add_triggers_after_event_campaigns(tid, fake_wecom):  # noqa: F811
    from chalicelib.audience import users
    from chalicelib.campaigns import service as campaigns
    from chalicelib.campaigns.models import DueItem

    campaign = campaigns.create(tid, {
        "name": "欢迎", "audience": {"tags_all": ["channel:offline-poster"]},
        "message": {"text": "三天后的问候"},
        "schedule": {"after_event": {"type": "joined_staff", "delay_minutes": 3 * 24 * 60}}})
    code = staff_code(tid)
    deliver(tid, contact_added(CORP_ID, "zhangsan", "wmAUD7", code["targets"][0]["wecom"]["state"]))
    user_id = users.find_user_id(tid, "external_userid", "wmAUD7")
    due = [i for shard in range(4) for i in DueItem.query(str(shard))
           if i.tenant_id == tid and i.kind == "event"]
    assert [(i.campaign_id, i.user_id) for i in due] == [(campaign["id"], user_id)]


def test_an_add_costs_a_bounded_number_of_aws_calls(tid, fake_wecom):  # noqa: F811
    from bench.common import counting

    code = staff_code(tid, tags=["vip"])
    message = {k: str(v) for k, v in contact_added(
        CORP_ID, "zhangsan", "wmAUD8", code["targets"][0]["wecom"]["state"]).items()}
    with counting() as calls:
        assert consumers.handle(tid, callbacks.event_id(message), message) is True
    # claim (PutItem), code (GetItem), identify (BatchGetItem + TransactWriteItems for a new user;
    # the stage thresholds GetItem is cached per container), contact (UpdateItem), event
    # (TransactWriteItems + SendMessage of user_event), count (UpdateItem): 9 today
    assert calls.calls.get("TransactWriteItems") == 2 and calls.calls.get("SendMessage") == 1
    assert calls.total <= 10, calls.calls
    with counting() as again:
        assert consumers.handle(tid, callbacks.event_id(message), message) is False
    assert again.calls == {"PutItem": 1}  # a replay costs the failed claim only


# ---- welcome messages with content --------------------------------------------------------------

def add_with_welcome(tid, fake, welcome, stored=None):
    """A contact added through a staff code with this welcome; ``stored`` replaces the welcome
    in the stored item afterwards (a row written before welcome content was checked on save)."""
    code = staff_code(tid, welcome=welcome)
    if stored is not None:
        from chalicelib.livecodes.models import LiveCode

        LiveCode(tenant_id=tid, code_id=code["id"]).update(actions=[LiveCode.welcome.set(stored)])
    welcome_code = fake.new_welcome_code()
    deliver(tid, contact_added(CORP_ID, "zhangsan", "wmW" + welcome_code[-6:],
                               code["targets"][0]["wecom"]["state"], welcome_code))
    return fake.welcomes


def test_an_article_welcome_is_a_link_card(tid, fake_wecom):  # noqa: F811
    from chalicelib.content import service as content

    item = content.create(tid, {"type": "article", "title": "新人必读", "url": "https://brand.example/a",
                                "body": "鱼" * 300, "tags": []})
    sent = add_with_welcome(tid, fake_wecom, {"text": "欢迎!", "content_id": item["id"]})
    assert sent == [{"welcome_code": sent[0]["welcome_code"], "text": {"content": "欢迎!"},
                     "attachments": [{"msgtype": "link", "link": {
                         "title": "新人必读", "url": "https://brand.example/a",
                         "desc": "鱼" * 170}}]}]  # desc clipped to 512 bytes, whole characters


def test_media_welcomes_link_to_the_media_on_our_host(tid, fake_wecom):  # noqa: F811
    from chalicelib.content import service as content

    item = content.create(tid, {"type": "image", "title": "海报", "media": {"data": png_b64()},
                                "tags": []})
    sent = add_with_welcome(tid, fake_wecom, {"content_id": item["id"]})
    assert "text" not in sent[0]
    card = sent[0]["attachments"][0]["link"]
    assert card["url"].startswith("http://testserver/m/" + tid + "/media/")
    assert card["picurl"] == card["url"] and card["title"] == "海报"
    tenant, folder, name = card["url"].split("/m/", 1)[1].split("/")
    assert media.read_public(tenant, folder, name)[1] == "image/png"


def test_a_miniprogram_welcome_is_a_link_with_the_thumbnail_or_nothing(tid, fake_wecom):  # noqa: F811
    from chalicelib.content import service as content

    card = {"appid": "wx" + "0123456789abcdef", "path": "pages/index/index?id=1",
            "thumbnail": png_b64()}
    with_url = content.create(tid, {"type": "miniprogram", "title": "小程序商城", "card": card,
                                    "url": "https://h5.brand.example/shop", "tags": []})
    sent = add_with_welcome(tid, fake_wecom, {"text": "hi", "content_id": with_url["id"]})
    link = sent[0]["attachments"][0]["link"]
    assert link["url"] == "https://h5.brand.example/shop" and link["title"] == "小程序商城"
    assert link["picurl"].startswith("http://testserver/m/" + tid + "/img/")
    bare = content.create(tid, {"type": "miniprogram", "title": "无网页", "card": card, "tags": []})
    sent = add_with_welcome(tid, fake_wecom, {"text": "hi", "content_id": bare["id"]})
    assert sent[-1]["text"] == {"content": "hi"} and "attachments" not in sent[-1]


def test_a_text_item_is_the_text_and_a_missing_item_leaves_the_text(tid, fake_wecom):  # noqa: F811
    from chalicelib.content import service as content

    item = content.create(tid, {"type": "text", "title": "t", "body": "回复 1 领券", "tags": []})
    sent = add_with_welcome(tid, fake_wecom, {"content_id": item["id"]})
    assert sent[-1] == {"welcome_code": sent[-1]["welcome_code"], "text": {"content": "回复 1 领券"}}
    code = staff_code(tid, welcome={"text": "欢迎", "content_id": item["id"]})
    content.delete(tid, item["id"])  # deleted after the code was saved
    welcome_code = fake_wecom.new_welcome_code()
    deliver(tid, contact_added(CORP_ID, "zhangsan", "wmW" + welcome_code[-6:],
                               code["targets"][0]["wecom"]["state"], welcome_code))
    sent = fake_wecom.welcomes
    assert sent[-1]["text"] == {"content": "欢迎"} and "attachments" not in sent[-1]
    assert len(sent) == 2


def test_another_tenants_content_is_never_sent(tid, fake_wecom, other_tenant):  # noqa: F811
    from chalicelib.content import service as content

    theirs = content.create(other_tenant["tenant_id"], {
        "type": "link", "title": "secret", "url": "https://other.example", "tags": []})
    with pytest.raises(ValidationFailed):  # refused when saved ...
        staff_code(tid, welcome={"text": "欢迎", "content_id": theirs["id"]})
    sent = add_with_welcome(tid, fake_wecom, {"text": "欢迎"},  # ... and never sent from a legacy row
                            stored={"text": "欢迎", "content_id": theirs["id"]})
    assert sent[-1] == {"welcome_code": sent[-1]["welcome_code"], "text": {"content": "欢迎"}}


@pytest.mark.parametrize("attachments,problem", [
    ([{"msgtype": "link", "link": {"title": "t"}}], "needs"),
    ([{"msgtype": "link", "link": {"title": "t" * 129, "url": "https://x.example"}}], "128 bytes"),
    ([{"msgtype": "miniprogram", "miniprogram": {"title": "t", "appid": "wx1", "page": "p/i"}}],
     "needs"),
    ([{"msgtype": "miniprogram", "miniprogram": {"title": "t", "appid": "wx1", "page": "p/i",
                                                 "pic_media_id": "m"}}], ".html"),
    ([{"msgtype": "voice", "voice": {}}], "msgtype"),
    ([{"msgtype": "link", "link": {"title": "t", "url": "https://x.example"}}] * 10, "at most 9"),
])
def test_the_fake_refuses_malformed_attachments_and_keeps_the_code(tid, fake_wecom, attachments,  # noqa: F811
                                                                   problem):
    code = fake_wecom.new_welcome_code()
    with pytest.raises(client.WecomRejected) as err:
        client.send_welcome_msg(integration.load(tid), code, "hi", attachments)
    assert err.value.errcode == 40058 and problem in err.value.errmsg
    client.send_welcome_msg(integration.load(tid), code, "hi", [{"msgtype": "file", "file": {"media_id": "m1"}}])
    assert fake_wecom.welcomes[-1]["attachments"] == [{"msgtype": "file", "file": {"media_id": "m1"}}]
