"""Pure rules of team accounts: password hashing and rules, token formats, the key derivation, the
role policy and the audit log's object naming."""
import base64
import hashlib
import time

import pytest

from chalicelib import signing
from chalicelib.errors import ValidationFailed
from chalicelib.members import audit, passwords, policy, tokens

FAST = passwords.Cost(1024, 8, 1)


def test_default_cost_is_an_owasp_scrypt_configuration():
    cost = passwords.Cost()
    assert (cost.n, cost.r, cost.p) == (2 ** 15, 8, 3)  # OWASP: N=2^15, r=8, p=3 ≈ N=2^17, p=1
    assert cost.memory == 32 * 1024 * 1024


def test_hash_carries_its_parameters_and_verifies():
    stored = passwords.hash_password("correct horse battery", FAST)
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 1024, 8, 1)
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    expected = hashlib.scrypt(b"correct horse battery", salt=base64.urlsafe_b64decode(pad(salt)),
                              n=1024, r=8, p=1, dklen=32)
    assert base64.urlsafe_b64decode(pad(digest)) == expected
    assert passwords.verify_password("correct horse battery", stored)
    assert not passwords.verify_password("correct horse batterY", stored)
    assert stored != passwords.hash_password("correct horse battery", FAST)  # salted
    assert not passwords.verify_password("anything", None, FAST)
    assert not passwords.verify_password("anything", "md5$abc", FAST)


def test_cost_from_settings():
    assert passwords.Cost.parse("") == passwords.Cost()
    assert passwords.Cost.parse("16384,8,2") == passwords.Cost(16384, 8, 2)
    with pytest.raises(ValueError):
        passwords.Cost.parse("1000,8,1")


@pytest.mark.parametrize("password", ["short", "0123456789", "zzzzzzzzzzzz", "ababababab",
                                      "a@example.com", "x" * 257, None])
def test_weak_passwords_are_refused_with_the_field(password):
    with pytest.raises(ValidationFailed) as err:
        passwords.check_rules(password, "a@example.com")
    assert err.value.field == "password" and err.value.code == "weak-password"


def test_good_password_passes():
    assert passwords.check_rules("鱼塘 is a fish pond", "a@example.com") == "鱼塘 is a fish pond"


def test_derive_key_is_rfc5869_hkdf():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    expected = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"yutang-signing-v1",
                    info=b"purpose").derive(b"the secret")
    assert signing.derive_key("the secret", "purpose") == expected
    assert signing.derive_key("the secret", "other") != expected


def test_access_tokens_are_signed_and_bound():
    exp = int(time.time()) + 60
    token = tokens.issue_access("s1", "abcdefgh", "abcdefghij", "abcdefghijkm", exp)
    assert tokens.read_access("s1", token) == ("abcdefgh", "abcdefghij", "abcdefghijkm", exp)
    assert tokens.read_access("s2", token) is None  # another deployment's secret
    parts = token.split(".")
    for i, value in ((1, "hgfedcba"), (2, "jihgfedcba"), (4, str(exp + 3600))):
        forged = ".".join(parts[:i] + [value] + parts[i + 1:])
        assert tokens.read_access("s1", forged) is None
    # a refresh token never passes as an access token (different purpose key and shape)
    refresh, _ = tokens.issue_refresh("s1", "abcdefgh", "abcdefghij", "abcdefghijkm", 0)
    assert tokens.read_access("s1", refresh) is None
    assert tokens.read_refresh("s1", token) is None


def test_refresh_tokens_store_only_a_hash():
    token, stored = tokens.issue_refresh("s1", "abcdefgh", "abcdefghij", "abcdefghijkm", 3)
    claims = tokens.read_refresh("s1", token)
    assert claims.generation == 3 and tokens.digest_matches(claims.nonce, stored)
    assert claims.nonce not in stored


def test_policy_defaults_and_overrides():
    assert policy.required_role("/v1/anything-new", "GET") == "analyst"
    assert policy.required_role("/v1/anything-new", "POST") == "operator"
    assert policy.required_role("/v1/webhook-subscriptions/{id}", "GET") == "admin"
    assert policy.required_role("/v1/integrations/wecom", "PUT") == "admin"
    assert policy.required_role("/v1/sessions", "POST") is None
    assert policy.allows("owner", "admin") and not policy.allows("operator", "admin")
    assert not policy.allows(None, "analyst") and not policy.allows("root", "analyst")


@pytest.mark.parametrize("template,params,answer,expected", [
    ("/v1/livecodes", {}, {"id": "c1"}, ("livecode", "c1")),
    ("/v1/livecodes/{code_id}", {"code_id": "c1"}, None, ("livecode", "c1")),
    ("/v1/livecodes/{code_id}/targets", {"code_id": "c1"}, {"id": "t1"}, ("target", "t1")),
    ("/v1/livecodes/{code_id}/targets/{target_id}", {"code_id": "c1", "target_id": "t1"}, None,
     ("target", "t1")),
    ("/v1/campaigns/{campaign_id}/run", {"campaign_id": "k1"}, {"run_id": "r"}, ("campaign", "k1")),
    ("/v1/users/{user_id}/tags", {"user_id": "u1"}, {"id": "u1"}, ("user", "u1")),
    ("/admin/v1/tenants", {}, {"tenant_id": "t9"}, ("tenant", "t9")),
    ("/v1/audience/settings", {}, {"x": 1}, ("audience-settings", None)),
    ("/v1/invites/{token}/accept", {"token": "yti1.secret"}, None, ("invite", None)),
])
def test_audit_object_of(template, params, answer, expected):
    assert audit.object_of(template, params, answer) == expected


def test_audit_records_field_names_only():
    assert audit.changed_fields(b'{"secret": "v", "name": "n"}') == ["name", "secret"]
    assert audit.changed_fields(b"[1]") == [] and audit.changed_fields(b"nope") == []
    assert audit._concrete("/v1/invites/{token}/accept", {"token": "yti1.x"}) == \
        "/v1/invites/{token}/accept"
    assert audit._concrete("/v1/livecodes/{code_id}", {"code_id": "c1"}) == "/v1/livecodes/c1"
