"""`make dev` serves the built console at /console/ from the API's origin: index, deep links
(SPA fallback), hashed assets with their content type and a long cache, the API still the API."""
import re

import pytest

from tests.support.console import ensure_built

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", autouse=True)
def built():
    return ensure_built()


def test_console_index_deep_link_and_assets(dev_stack):
    status, headers, body = dev_stack.request("GET", "/console/", key=None)
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert b'<div id="app">' in body
    scripts = re.findall(rb'src="(/console/assets/[^"]+\.js)"', body)
    styles = re.findall(rb'href="(/console/assets/[^"]+\.css)"', body)
    assert scripts and styles

    status, headers, deep = dev_stack.request("GET", "/console/livecodes/abc?x=1", key=None)
    assert (status, deep) == (200, body)
    assert headers["Cache-Control"] == "no-cache"

    status, headers, js = dev_stack.request("GET", scripts[0].decode(), key=None)
    assert status == 200 and len(js) > 1000
    assert headers["Content-Type"].startswith("text/javascript")
    assert "immutable" in headers["Cache-Control"]
    status, headers, _ = dev_stack.request("GET", styles[0].decode(), key=None)
    assert (status, headers["Content-Type"].split(";")[0]) == (200, "text/css")
    etag = headers["ETag"]
    status, _, again = dev_stack.request("GET", styles[0].decode(), key=None,
                                         headers={"If-None-Match": etag})
    assert (status, again) == (304, b"")

    # compressed for a browser that accepts gzip, the same bytes once unpacked
    import gzip

    status, headers, packed = dev_stack.request("GET", scripts[0].decode(), key=None,
                                                headers={"Accept-Encoding": "gzip, br"})
    assert (status, headers.get("Content-Encoding")) == (200, "gzip")
    assert gzip.decompress(packed) == js and len(packed) < len(js) / 2

    status, _, _ = dev_stack.request("GET", "/console/assets/missing-0000.js", key=None)
    assert status == 404


def test_console_prefix_redirects_and_api_still_routes(dev_stack):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", dev_stack.port, timeout=10)
    conn.request("GET", "/console")
    resp = conn.getresponse()
    assert (resp.status, resp.getheader("Location")) == (301, "/console/")
    conn.close()
    status, _, _ = dev_stack.request("GET", "/v1/livecodes")
    assert status == 200
    status, _, body = dev_stack.request("POST", "/console/", body={}, key=None)
    assert status in (403, 404, 405)
