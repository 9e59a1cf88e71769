"""企业微信-backed live codes end to end against the fake server and moto: ways created, updated and
cleaned up; callbacks attribute, tag, count and welcome once; member changes drive capacity."""
import pytest

from chalicelib import media
from chalicelib.errors import ValidationFailed
from chalicelib.livecodes import service
from chalicelib.local.fake_wecom import chat_members_changed, contact_added, contact_removed
from chalicelib.wecom import attribution, callbacks, client, integration, stats
from chalicelib.wecom.models import WecomChatLink
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
    assert deliver(tid, fields) == 1
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
    assert deliver(tid, fields) == 1  # 41051 from 企业微信; the attribution still happens
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
        callbacks.handle(tid, eid, message)
    assert callbacks.handle(tid, eid, message) is True
    assert callbacks.handle(tid, eid, message) is False
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
    assert LiveCode.get(tid, code["id"]).targets[0].assigned == 4
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
