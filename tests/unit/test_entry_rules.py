"""Entry domains, pure: which host names may be listed, which one is current, where an entry
redirects."""
import pytest

from chalicelib.entry import rules
from chalicelib.errors import ValidationFailed


@pytest.mark.parametrize("value,clean", [
    ("go.example.com", "go.example.com"), ("  GO.Example.COM. ", "go.example.com"),
    ("a-b.example.cn:8443", "a-b.example.cn:8443"), ("活动.例子.cn", "xn--6fr513d.xn--fsqu00a.cn")])
def test_host_names_are_normalised(value, clean):
    assert rules.parse_domain(value) == clean


@pytest.mark.parametrize("value", [
    None, "", 5, "https://go.example.com", "go.example.com/path", "user@go.example.com",
    "localhost", "127.0.0.1", "go.example.com:0", "go.example.com:70000", "go.example.com:80a",
    "-go.example.com", "go..example.com", "go_example.com", "a" * 64 + ".com", "evil.com?x=.good.com",
    "evil.com#good.com", "evil.com\\@good.com", "go.example.com\r\nSet-Cookie: x=1", "[::1]"])
def test_anything_else_is_refused(value):
    with pytest.raises(ValidationFailed):
        rules.parse_domain(value)


def test_the_current_domain_is_the_first_active_one():
    listed = [{"domain": "a.cn", "status": "blocked"}, {"domain": "b.cn", "status": "active"},
              {"domain": "c.cn", "status": "active"}]
    assert rules.current(listed) == "b.cn"
    assert rules.current([{"domain": "a.cn", "status": "blocked"}]) is None
    assert rules.current([]) is None


def test_the_landing_url_is_built_from_the_host_and_slug_only():
    assert rules.landing_url("https", "b.cn", "abcdefgh23456789", None) == \
        "https://b.cn/s/abcdefgh23456789"
    assert rules.landing_url("https", "b.cn", "abcdefgh23456789", "r-1") == \
        "https://b.cn/s/abcdefgh23456789?ref=r-1"
    assert rules.landing_url("https", "b.cn", "//evil.com", None) == "https://b.cn/s/%2F%2Fevil.com"
