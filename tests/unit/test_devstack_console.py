"""The local server's console hosting (devstack/console.py): which file answers which path, and
CloudFront's viewer-request function (infra) draws the same line between files and screens."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from devstack import console
from infra.yutang_infra.console_routing import CONSOLE_ROUTING_JS

INVITE = "/console/invite/yti1.e2etest2.pj8z22z8bv.w51h-4SIRj8JDka7ea1tgwHDivWoAqI1JfN1-S_rQt8"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=app></div>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "assets" / "index-abc123.css").write_text("body{}")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    return tmp_path


def test_index_and_prefix_redirect(dist):
    assert console.resolve(dist, "/console") == (301, None, {"Location": "/console/"})
    status, file, headers = console.resolve(dist, "/console/")
    assert (status, file.name, headers["Cache-Control"]) == (200, "index.html", "no-cache")


def test_deep_link_gets_index_html(dist):
    for path in ("/console/livecodes", "/console/livecodes/abc?tab=stats", "/console/overview/",
                 INVITE):
        status, file, _ = console.resolve(dist, path)
        assert (status, file.name) == (200, "index.html"), path


def test_hashed_assets_cached_long_others_revalidated(dist):
    status, file, headers = console.resolve(dist, "/console/assets/index-abc123.js")
    assert (status, file.name) == (200, "index-abc123.js")
    assert headers["Cache-Control"] == console.IMMUTABLE
    _, _, headers = console.resolve(dist, "/console/favicon.svg")
    assert headers["Cache-Control"] == "no-cache"


def test_missing_asset_is_404_not_html(dist):
    assert console.resolve(dist, "/console/assets/gone-123.js")[0] == 404
    assert console.resolve(dist, "/console/robots.txt")[0] == 404


def test_no_escape_from_dist(dist):
    (dist.parent / "secret.txt").write_text("no")
    for path in ("/console/../secret.txt", "/console/assets/../../secret.txt",
                 "/console/%2e%2e/secret.txt"):
        status, file, _ = console.resolve(dist, path)
        assert file is None or dist.resolve() in file.parents or file == dist.resolve() / "index.html"
        assert status in (200, 404)
        if file is not None:
            assert file.name == "index.html"


def test_not_built_is_503(tmp_path):
    assert console.resolve(tmp_path / "nothing", "/console/")[0] == 503


def test_content_types():
    assert console.content_type(Path("a.js")).startswith("text/javascript")
    assert console.content_type(Path("a.css")).startswith("text/css")
    assert console.content_type(Path("a.svg")) == "image/svg+xml"
    assert console.content_type(Path("a.woff2")) == "font/woff2"


def test_the_chalice_app_has_no_console_route():
    import app

    paths = list(app.app.routes)
    assert paths, "the app has routes"
    assert not [p for p in paths if p == "/console" or p.startswith("/console/")]


def test_gzip_when_accepted(dist):
    import gzip

    assert console.accepts_gzip("gzip, deflate, br")
    assert console.accepts_gzip("br;q=1.0, gzip;q=0.8")
    assert not console.accepts_gzip("gzip;q=0")
    assert not console.accepts_gzip(None)
    f = dist / "assets" / "index-abc123.js"
    packed = console.gzipped(f, f.stat().st_mtime_ns)
    assert gzip.decompress(packed) == f.read_bytes()


def test_cloudfront_function_routes_as_the_local_server_does(dist):
    """Runs the CloudFront Function's JavaScript in Node: a screen (even one whose token has dots)
    becomes /console/index.html, a file stays itself, exactly where the local server agrees."""
    node = shutil.which("node")
    assert node, "node is needed (make test installs the console with npm)"
    paths = ["/console/", "/console/livecodes", "/console/livecodes/abc", INVITE,
             "/console/assets/index-abc123.js", "/console/assets/gone-123.js", "/console/favicon.svg",
             "/console/robots.txt", "/console/site.webmanifest", "/console/v1.2"]
    script = (CONSOLE_ROUTING_JS + "\nconsole.log(JSON.stringify(" + json.dumps(paths)
              + ".map(u => handler({request: {uri: u}}).uri)))")
    rewritten = json.loads(subprocess.run([node, "-e", script], capture_output=True, text=True,
                                          check=True).stdout)
    for path, uri in zip(paths, rewritten, strict=True):
        status, file, _ = console.resolve(dist, path)
        local_screen = status == 200 and file.name == "index.html"
        assert (uri == "/console/index.html") == local_screen, (path, uri, status)
    assert rewritten[3] == "/console/index.html" and rewritten[4] == paths[4]
