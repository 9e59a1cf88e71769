"""The viewer's address from a CDN header (chalicelib.http.viewer_address): CloudFront's
CloudFront-Viewer-Address is "address:source-port", IPv6 unbracketed."""
import pytest

from chalicelib.http import viewer_address


@pytest.mark.parametrize("value, address", [
    ("198.51.100.10:46532", "198.51.100.10"),
    (" 198.51.100.10:46532 ", "198.51.100.10"),
    ("2001:db8::1:46532", "2001:db8::1"),  # CloudFront's IPv6 form: no brackets, port last
    ("2001:0db8:85a3:0000:0000:8a2e:0370:7334:443", "2001:db8:85a3::8a2e:370:7334"),
    ("2406:2d40:728d:fa10::c4a:42838", "2406:2d40:728d:fa10::c4a"),  # seen from CloudFront
    ("::1:80", "::1"),
    ("::ffff:198.51.100.7:443", "::ffff:c633:6407"),
    ("[2001:db8::7]:4431", "2001:db8::7"),  # bracketed socket-address form
    ("[2001:db8::7]", "2001:db8::7"),
    ("198.51.100.10", "198.51.100.10"),  # a bare IPv4 address
])
def test_the_address_without_its_port(value, address):
    assert viewer_address(value) == address


@pytest.mark.parametrize("value", [
    "", "   ", "not-an-ip:80", "198.51.100.10:", "198.51.100.10:http", "999.1.1.1:80",
    "[2001:db8::7]:x", "[2001:db8::7", "<script>:1", "1.2.3.4, 5.6.7.8:80", "a" * 200 + ":1",
])
def test_what_is_no_address_is_none(value):
    assert viewer_address(value) is None
