"""WXBizMsgCrypt against 企业微信's official sample vectors, round trips and failures; states,
errcode mapping and sealed secrets (pure)."""
import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.wecom import crypto
from chalicelib.wecom.client import WecomRejected, WecomRetryable, classify
from chalicelib.wecom.targets import parse_state, state_for

# The official WXBizMsgCrypt sample (企业微信 docs "加解密方案说明", and the C#/Java/PHP samples).
TOKEN, CORP_ID = "QDG6eK", "wx5823bf96d3bd56c7"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
VERIFY = {"msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "timestamp": "1409659589",
          "nonce": "263014780",
          "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="}
POST = {"msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6", "timestamp": "1409659813",
        "nonce": "1372623149",
        "encrypt": "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3Q"
                   "czcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj4"
                   "8kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3"
                   "Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4Ehz"
                   "JWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28"
                   "H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="}


def test_official_verify_url_vector():
    crypto.verify_signature(TOKEN, VERIFY["timestamp"], VERIFY["nonce"], VERIFY["echostr"],
                            VERIFY["msg_signature"])
    assert crypto.decrypt(AES_KEY, CORP_ID, VERIFY["echostr"]) == "1616140317555161061"


def test_official_message_vector():
    assert crypto.signature(TOKEN, POST["timestamp"], POST["nonce"], POST["encrypt"]) == \
        POST["msg_signature"]
    message = crypto.parse_xml(crypto.decrypt(AES_KEY, CORP_ID, POST["encrypt"]))
    assert message == {"ToUserName": "wx5823bf96d3bd56c7", "FromUserName": "mycreate",
                       "CreateTime": "1409659813", "MsgType": "text", "Content": "hello",
                       "MsgId": "4561255354251345929", "AgentID": "218"}


def test_encrypt_matches_the_scheme_byte_for_byte():
    """With the random prefix fixed, our ciphertext decrypts by the scheme's own layout."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    enc = crypto.encrypt(AES_KEY, CORP_ID, "中文 message", random16=b"R" * 16)
    key = base64.b64decode(AES_KEY + "=")
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    raw = dec.update(base64.b64decode(enc)) + dec.finalize()
    body = "中文 message".encode()
    assert len(raw) % 32 == 0
    assert raw[:16] == b"R" * 16 and int.from_bytes(raw[16:20], "big") == len(body)
    assert raw[20:20 + len(body)] == body and raw[20 + len(body):20 + len(body) + 18] == CORP_ID.encode()


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=500))
def test_round_trip(message):
    assert crypto.decrypt(AES_KEY, CORP_ID, crypto.encrypt(AES_KEY, CORP_ID, message)) == message


def test_sealed_callback_round_trip_through_xml():
    fields = {"ToUserName": CORP_ID, "CreateTime": 1700000000, "Event": "change_external_chat",
              "MemChangeList": ["wm1", "wm2"], "State": "a]]>b"}
    sealed = crypto.seal_callback(TOKEN, AES_KEY, CORP_ID, crypto.to_xml(fields), "1700000000", "n1")
    encrypted = crypto.parse_xml(sealed.body)["Encrypt"]
    crypto.verify_signature(TOKEN, sealed.timestamp, sealed.nonce, encrypted, sealed.msg_signature)
    assert crypto.parse_xml(crypto.decrypt(AES_KEY, CORP_ID, encrypted)) == {
        "ToUserName": CORP_ID, "CreateTime": "1700000000", "Event": "change_external_chat",
        "MemChangeList": ["wm1", "wm2"], "State": "a]]>b"}


@pytest.mark.parametrize("change", ["token", "timestamp", "nonce", "encrypt", "signature"])
def test_any_tampering_fails_the_signature(change):
    args = {"token": TOKEN, "timestamp": VERIFY["timestamp"], "nonce": VERIFY["nonce"],
            "encrypt": VERIFY["echostr"], "signature": VERIFY["msg_signature"]}
    args[change] = args[change][:-1] + ("0" if args[change][-1] != "0" else "1")
    with pytest.raises(crypto.CryptoError) as err:
        crypto.verify_signature(args["token"], args["timestamp"], args["nonce"], args["encrypt"],
                                args["signature"])
    assert err.value.code == "invalid-signature"


def test_wrong_receiver_is_refused():
    with pytest.raises(crypto.CryptoError) as err:
        crypto.decrypt(AES_KEY, "wwsomeoneelse", VERIFY["echostr"])
    assert err.value.code == "invalid-receiver"


@pytest.mark.parametrize("encrypted", ["", "not base64!", base64.b64encode(b"x" * 15).decode(),
                                       base64.b64encode(b"x" * 64).decode()])
def test_garbage_does_not_decrypt(encrypted):
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(AES_KEY, CORP_ID, encrypted)


def test_another_key_does_not_decrypt():
    other = base64.b64encode(b"k" * 32).decode()[:43]
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(other, CORP_ID, VERIFY["echostr"])


@pytest.mark.parametrize("key", ["", "short", AES_KEY + "A", AES_KEY[:-1] + "!"])
def test_bad_encoding_aes_keys(key):
    with pytest.raises(crypto.CryptoError) as err:
        crypto.aes_key(key)
    assert err.value.code == "invalid-aes-key"


@pytest.mark.parametrize("body", [b"<xml><a>1</a>", b"plain text",
                                  b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><A>&a;</A></xml>',
                                  b"<xml>" + b"<A>1</A>" * 10000 + b"</xml>"])
def test_bad_xml_is_refused(body):
    with pytest.raises(crypto.CryptoError) as err:
        crypto.parse_xml(body)
    assert err.value.code == "invalid-xml"


def test_state_carries_code_and_target_in_30_chars():
    state = state_for("abcdefgh", "23456789")
    assert len(state) <= 30 and parse_state(state) == ("abcdefgh", "23456789")


@pytest.mark.parametrize("state", [None, "", "ytabcdefgh2345678", "xxabcdefgh23456789",
                                   "ytabcdefgh2345678O", "ytABCDEFGH23456789", "someone-elses-state"])
def test_foreign_states_are_ignored(state):
    assert parse_state(state) is None


@pytest.mark.parametrize("errcode,kind", [(-1, WecomRetryable), (45009, WecomRetryable),
                                          (45033, WecomRetryable), (40003, WecomRejected),
                                          (84061, WecomRejected)])
def test_errcode_classes(errcode, kind):
    error = classify("/cgi-bin/x", {"errcode": errcode, "errmsg": "the reason"})
    assert type(error) is kind and error.errcode == errcode and "the reason" in error.message
    assert error.retryable == (kind is WecomRetryable)
    assert error.status == (503 if kind is WecomRetryable else 422)


def test_errcode_zero_and_missing_are_success():
    assert classify("/x", {"errcode": 0, "errmsg": "ok"}) is None
    assert classify("/x", {"access_token": "t"}) is None


def test_sealed_secrets_are_bound_to_tenant_and_purpose():
    from chalicelib.wecom import vault

    sealed = vault.seal("tenant01", "wecom.secret", "s3cret-value")
    assert "s3cret" not in sealed and sealed != vault.seal("tenant01", "wecom.secret", "s3cret-value")
    assert vault.unseal("tenant01", "wecom.secret", sealed) == "s3cret-value"
    for tenant, purpose in (("tenant02", "wecom.secret"), ("tenant01", "wecom.token")):
        with pytest.raises(vault.SealError):
            vault.unseal(tenant, purpose, sealed)
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(vault.SealError):
        vault.unseal("tenant01", "wecom.secret", tampered)
