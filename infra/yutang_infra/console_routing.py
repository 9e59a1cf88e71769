"""Which /console/ paths are files and which are screens of the single-page app (history mode).

A path whose last segment ends in a static file's extension is a file (served from S3, or 404);
everything else is a screen, answered with index.html. A screen's last segment may hold dots: an
invite link ends in its token (/console/invite/yti1.<tenant>.<id>.<mac>). No CDK here: the
CloudFront Function below is checked against devstack/console.py by a unit test that runs it in
Node.
"""
from __future__ import annotations

# the extensions `vite build` writes into console/dist (and a few a static site may hold)
STATIC_SUFFIXES = ("js", "mjs", "css", "html", "json", "svg", "png", "ico", "woff2", "woff", "ttf",
                   "map", "txt", "webp", "jpg", "jpeg", "gif", "webmanifest", "xml")

CONSOLE_ROUTING_JS = """function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === '/' || uri === '/console') {
    return {statusCode: 301, statusDescription: 'Moved Permanently',
            headers: {location: {value: '/console/'}, 'cache-control': {value: 'no-cache'}}};
  }
  if (uri.indexOf('/console/') === 0 && uri.indexOf('/console/assets/') !== 0 &&
      !/\\.(SUFFIXES)$/i.test(uri.slice(uri.lastIndexOf('/') + 1))) {
    request.uri = '/console/index.html';
  }
  return request;
}""".replace("SUFFIXES", "|".join(STATIC_SUFFIXES))


def is_file_path(rel: str) -> bool:
    """rel: the path after /console/. True when it names a file rather than a screen."""
    last = rel.rsplit("/", 1)[-1]
    return rel.startswith("assets/") or ("." in last and last.rsplit(".", 1)[1].lower() in STATIC_SUFFIXES)
