"""The offline IP-to-region table and the signed identity cookie (no AWS)."""
import time

import pytest

from chalicelib.livecodes import ipregions, known

TABLE = """# start,end,region
1.0.1.0,1.0.3.255,fujian
1.0.8.0,1.0.15.255,guangdong   # a comment after a row
2001:db8::,2001:db8::ffff,shanghai
"""


def test_lookup_finds_the_range_holding_the_address_and_nothing_between_ranges():
    table = ipregions.parse(TABLE.splitlines())
    assert table.lookup("1.0.1.0") == table.lookup("1.0.3.255") == "fujian"
    assert table.lookup("1.0.9.7") == "guangdong"
    assert table.lookup("1.0.4.1") is None  # a gap between ranges
    assert table.lookup("0.255.255.255") is None and table.lookup("9.9.9.9") is None
    assert table.lookup("2001:db8::1") == "shanghai" and table.lookup("2001:db9::1") is None
    assert table.lookup("not an ip") is None


@pytest.mark.parametrize("line", ["1.0.0.0,1.0.0.9", "1.0.0.9,1.0.0.0,x", "1.0.0.0,2001:db8::,x",
                                  "1.0.0.0,1.0.0.9,", "a,b,c"])
def test_a_bad_table_line_is_named(line):
    with pytest.raises(ValueError, match="line 2"):
        ipregions.parse(["# header", line])


def test_without_the_setting_there_is_no_region(monkeypatch, tmp_path):
    from chalicelib.settings import reset_settings

    monkeypatch.delenv(ipregions.SETTING, raising=False)
    reset_settings()
    assert ipregions.region_of("1.0.1.1") is None
    path = tmp_path / "t.csv"
    path.write_text(TABLE)
    monkeypatch.setenv(ipregions.SETTING, str(path))
    reset_settings()
    try:
        assert ipregions.region_of("1.0.1.1") == "fujian" and ipregions.region_of("") is None
    finally:
        monkeypatch.delenv(ipregions.SETTING)
        reset_settings()


def test_the_identity_cookie_is_signed_tenant_bound_and_expires():
    later = int(time.time()) + 3600
    set_cookie = known.who_cookie("tenantaa", "userabcdefgh", later, "s3cret", secure=True)
    assert "HttpOnly" in set_cookie and "Secure" in set_cookie and "Max-Age=3" in set_cookie
    pair = set_cookie.split(";", 1)[0]
    assert known.who_from_cookie(f"a=b; {pair}", "tenantaa", "s3cret") == "userabcdefgh"
    assert known.who_from_cookie(pair, "tenantab", "s3cret") is None  # another tenant
    assert known.who_from_cookie(pair, "tenantaa", "other") is None  # another secret
    forged = pair.replace("userabcdefgh", "userabcdefgj")
    assert known.who_from_cookie(forged, "tenantaa", "s3cret") is None
    gone = known.who_cookie("tenantaa", "userabcdefgh", int(time.time()) - 1, "s3cret", False)
    assert known.who_from_cookie(gone.split(";", 1)[0], "tenantaa", "s3cret") is None
    assert known.who_from_cookie('yt_who="bad', "tenantaa", "s3cret") is None
