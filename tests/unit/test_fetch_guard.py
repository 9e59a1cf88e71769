"""Outbound requests (issue 12, item 3): IPv4-embedded IPv6 forms are refused, the connection goes
to the address that was vetted (no second resolution), https keeps SNI and the Host header."""
import ipaddress
import socket

import pytest

from chalicelib import fetch
from chalicelib.settings import get_settings


@pytest.fixture
def guard_on(monkeypatch):
    real = get_settings()
    monkeypatch.setattr(fetch, "get_settings", lambda: real._replace(allow_private_fetch=False))


@pytest.fixture
def guard_off(monkeypatch):
    real = get_settings()
    monkeypatch.setattr(fetch, "get_settings", lambda: real._replace(allow_private_fetch=True))


EMBEDDED = ["::127.0.0.1", "::ffff:127.0.0.1", "::ffff:7f00:1", "64:ff9b::7f00:1",
            "64:ff9b::a00:1", "64:ff9b:1::7f00:1", "2002:7f00:1::", "2002:a00:1::1",
            "2001:0:4136:e378:8000:63bf:80ff:fffe", "::ffff:8.8.8.8", "::8.8.8.8"]


@pytest.mark.parametrize("addr", EMBEDDED)
def test_ipv4_embedded_ipv6_forms_are_not_public(addr, guard_on):
    assert not fetch.is_public(ipaddress.ip_address(addr))
    with pytest.raises(fetch.FetchRefused) as err:
        fetch.vet(f"http://[{addr}]:8080/x")
    assert not isinstance(err.value, fetch.FetchFailed)  # refused: permanent, nothing sent


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://10.1.2.3/", "http://169.254.169.254/",
                                 "http://[::1]/", "http://[fe80::1]/", "http://0.0.0.0/",
                                 "http://100.64.0.1/", "ftp://example.com/", "http:///x"])
def test_private_and_odd_targets_are_refused(url, guard_on):
    with pytest.raises(fetch.FetchRefused):
        fetch.vet(url)


def test_public_addresses_pass(guard_on):
    for addr in ("8.8.8.8", "2606:4700:4700::1111"):
        assert fetch.is_public(ipaddress.ip_address(addr))


def test_a_name_resolving_to_any_private_address_is_refused(guard_on, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80)),
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::ffff:10.0.0.1", 80, 0, 0))])
    with pytest.raises(fetch.FetchRefused):
        fetch.vet("http://rebind.example/")


def test_the_connection_goes_to_the_vetted_address_without_a_second_lookup(guard_on, monkeypatch):
    answers = [[(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80))],
               [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80))]]  # rebinding
    lookups, connects = [], []

    def getaddrinfo(host, *a, **k):
        lookups.append(host)
        return answers[min(len(lookups), 2) - 1]

    def create_connection(address, *a, **k):
        connects.append(address)
        raise ConnectionRefusedError("test")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    with pytest.raises(fetch.FetchFailed):
        fetch.request("GET", "http://rebind.example/x")
    assert lookups == ["rebind.example"] and connects == [("93.184.216.34", 80)]


def test_https_keeps_sni_and_host(guard_on, monkeypatch):
    seen = {}
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443))])

    class FakeSock:
        def close(self):
            pass

    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: (
        seen.setdefault("address", address), FakeSock())[1])

    def wrap_socket(self, sock, server_hostname=None, **kw):
        seen["sni"] = server_hostname
        raise OSError("stop after the handshake setup")

    import ssl
    monkeypatch.setattr(ssl.SSLContext, "wrap_socket", wrap_socket)
    with pytest.raises(fetch.FetchFailed):
        fetch.request("GET", "https://hooks.example.com/x")
    assert seen == {"address": ("93.184.216.34", 443), "sni": "hooks.example.com"}


def test_host_header_names_the_host_not_the_address(guard_off):
    from tests.support.http_sink import Sink

    sink = Sink().start()
    try:
        port = sink.server.server_address[1]
        answer = fetch.request("POST", f"http://localhost:{port}/hook", body=b"{}")
        assert answer.status == 200
        assert sink.requests[0].headers["Host"] == f"localhost:{port}"
    finally:
        sink.stop()


def test_a_slow_answer_is_a_timeout_not_a_failure(guard_off):
    from tests.support.http_sink import Sink

    sink = Sink(delay=0.5).start()
    try:
        with pytest.raises(fetch.FetchTimeout):
            fetch.post_json(sink.url, b"{}", {}, timeout=0.1)
    finally:
        sink.stop()
