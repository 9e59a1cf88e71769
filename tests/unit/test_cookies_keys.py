"""Visit cookies and API key format (pure)."""
from chalicelib.auth import keys
from chalicelib.livecodes import cookies


def _header(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0]


def test_cookie_round_trip():
    visit = cookies.Visit(cookies.new_visitor_id(), "abcdefgh", "2026-11-23")
    header = _header(cookies.write("code2345", visit, "s3cret", "/", secure=True))
    assert cookies.read(header, "code2345", "s3cret") == visit


def test_cookie_is_bound_to_code_and_secret_and_untamperable():
    visit = cookies.Visit(cookies.new_visitor_id(), "abcdefgh", "2026-11-23")
    header = _header(cookies.write("code2345", visit, "s3cret", "/", secure=False))
    assert cookies.read(header, "code2345", "other") is None
    moved = header.replace("yt_code2345", "yt_code6789")
    assert cookies.read(moved, "code6789", "s3cret") is None
    tampered = header.replace("abcdefgh", "abcdefgj")
    assert cookies.read(tampered, "code2345", "s3cret") is None
    assert cookies.read("yt_code2345=garbage", "code2345", "s3cret") is None
    assert cookies.read('bad"cookie;;==', "code2345", "s3cret") is None


def test_cookie_flags():
    value = cookies.write("code2345", cookies.Visit("a" * 16, "-", "d"), "s", "/", secure=True)
    assert "HttpOnly" in value and "SameSite=Lax" in value and "Secure" in value


def test_api_key_parse_and_verify():
    key_id, full, secret_hash = keys.make_key("tenant23")
    parsed = keys.parse_key(full)
    assert (parsed.tenant_id, parsed.key_id) == ("tenant23", key_id)
    assert keys.secret_matches(parsed.secret, secret_hash)
    assert not keys.secret_matches(parsed.secret + "x", secret_hash)
    assert secret_hash != parsed.secret and len(secret_hash) == 64


def test_malformed_keys_are_rejected():
    for bad in ["", "yt_", "yt_short_x_y", "xx_tenant23_key23456_secret", "yt_tenant23-key23456_s",
                "yt_TENANT23_key23456_s", "yt_tenant23_key23456_"]:
        assert keys.parse_key(bad) is None, bad
