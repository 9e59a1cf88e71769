"""The shared 企业微信 client against the fake server: tokens cached and shared, refreshed once on
expiry, errcodes mapped to retryable / permanent errors."""
import time

import pytest

from chalicelib.wecom import client, integration
from chalicelib.wecom.models import WecomToken
from tests.support.wecom import SECRET, configure, fake_wecom  # noqa: F401


@pytest.fixture
def configured(fake_wecom, tenant):  # noqa: F811
    configure(tenant["tenant_id"])
    fake_wecom.calls.clear()
    return tenant["tenant_id"]


def _chat(fake, chat_id="wrchat1"):
    fake.add_chat(chat_id, customers=3)
    return chat_id


def test_token_is_fetched_once_and_shared_through_the_table(fake_wecom, configured):  # noqa: F811
    tid = configured
    _chat(fake_wecom)
    client.get_group_chat(integration.load(tid), "wrchat1")
    client.get_group_chat(integration.load(tid), "wrchat1")
    assert len(fake_wecom.calls_to("/gettoken")) == 1
    client.forget_tokens()  # a new container: the token comes from DynamoDB, not gettoken
    assert len(client.get_group_chat(integration.load(tid), "wrchat1")["member_list"]) == 4
    assert len(fake_wecom.calls_to("/gettoken")) == 1
    stored = WecomToken.get(tid)
    tokens = {c["query"]["access_token"] for c in fake_wecom.calls_to("/groupchat/get")}
    assert len(tokens) == 1 and tokens.pop() not in stored.token_sealed  # sealed at rest


def test_expired_token_is_refreshed_and_the_call_retried_once(fake_wecom, configured):  # noqa: F811
    tid = configured
    _chat(fake_wecom)
    fake_wecom.expire_tokens()  # the one PUT's check fetched
    fake_wecom.token_lifetime = 0.3  # says 7200 s, dies after 0.3 s
    client.get_group_chat(integration.load(tid), "wrchat1")
    time.sleep(0.4)
    fake_wecom.token_lifetime = 7200
    assert client.get_group_chat(integration.load(tid), "wrchat1")["chat_id"] == "wrchat1"
    answers = [c["path"] for c in fake_wecom.calls]
    assert answers.count("/cgi-bin/gettoken") == 2
    assert answers.count("/cgi-bin/externalcontact/groupchat/get") == 3  # ok, 42001, ok


def test_a_token_refused_twice_is_not_retried_forever(fake_wecom, configured):  # noqa: F811
    _chat(fake_wecom)
    fake_wecom.fail_next("/groupchat/get", 40014, "invalid access_token", times=2)
    with pytest.raises(client.WecomRejected) as err:
        client.get_group_chat(integration.load(configured), "wrchat1")
    assert err.value.errcode == 40014
    assert len(fake_wecom.calls_to("/groupchat/get")) == 2


@pytest.mark.parametrize("errcode", [45009, 45033, -1])
def test_rate_limits_and_busy_are_retryable(fake_wecom, configured, errcode):  # noqa: F811
    fake_wecom.fail_next("/groupchat/get", errcode, "slow down")
    with pytest.raises(client.WecomRetryable) as err:
        client.get_group_chat(integration.load(configured), "wrchat1")
    assert err.value.errcode == errcode and err.value.status == 503


def test_other_errcodes_are_permanent_with_the_errmsg(fake_wecom, configured):  # noqa: F811
    with pytest.raises(client.WecomRejected) as err:
        client.get_group_chat(integration.load(configured), "no-such-chat")
    assert not err.value.retryable and err.value.errcode == 40050
    assert "invalid chatid" in err.value.message and err.value.status == 422


def test_transport_errors_are_retryable(fake_wecom, configured):  # noqa: F811
    client.access_token(integration.load(configured))
    fake_wecom.stop()
    with pytest.raises(client.WecomRetryable):
        client.get_group_chat(integration.load(configured), "wrchat1")


def test_unconfigured_tenant(fake_wecom, tenant):  # noqa: F811
    with pytest.raises(integration.NotConfigured):
        client.call(integration.load(tenant["tenant_id"]), "POST", "/cgi-bin/externalcontact/groupchat/get", {})
    assert fake_wecom.calls == []


def test_wrong_credentials_are_refused_and_nothing_is_stored(fake_wecom, tenant):  # noqa: F811
    from chalicelib.wecom.models import WecomIntegration

    fake_wecom.corps = {"wx5823bf96d3bd56c7": SECRET}
    with pytest.raises(client.WecomRejected) as err:
        configure(tenant["tenant_id"], secret="wrong")
    assert err.value.code == "wecom-credentials-rejected" and err.value.errcode == 40001
    assert WecomIntegration.count(tenant["tenant_id"]) == 0
    configure(tenant["tenant_id"])
    assert integration.load(tenant["tenant_id"]).secret == SECRET


def test_changing_the_secret_invalidates_the_shared_token(fake_wecom, configured):  # noqa: F811
    tid = configured
    _chat(fake_wecom)
    client.get_group_chat(integration.load(tid), "wrchat1")
    configure(tid, secret="a-new-secret")
    client.forget_tokens()
    client.get_group_chat(integration.load(tid), "wrchat1")
    fetched = [c["query"]["corpsecret"] for c in fake_wecom.calls_to("/gettoken")]
    assert fetched[-1] == "a-new-secret"


def test_add_msg_template_for_campaigns(fake_wecom, configured):  # noqa: F811
    ids = [f"wm{i:05d}" for i in range(10_000)]
    fake_wecom.unreachable = {"wm00007"}
    result = client.add_msg_template(integration.load(configured), external_userids=ids, text="双11 福利",
                                     sender="staff1")
    assert result["msgid"].startswith("msg") and result["fail_list"] == ["wm00007"]
    sent = fake_wecom.templates[-1]
    assert len(sent["external_userid"]) == 10_000 and sent["text"] == {"content": "双11 福利"}
    with pytest.raises(ValueError):
        client.add_msg_template(integration.load(configured), external_userids=ids + ["one-more"], text="x")
