"""Serve the operator console (console/dist, built by `make console`) at /console/ on the local
server, from the same origin as the API.

On AWS, CloudFront serves the console from S3 next to the API; locally this hook answers GET/HEAD
under /console before Chalice's routing, so the Chalice app itself has no /console route. Deep links
(/console/livecodes/abc) get index.html (the SPA's history-mode router takes over); hashed assets
under /console/assets/ are cached for a year; index.html is revalidated every time.
"""
from __future__ import annotations

import gzip
import mimetypes
import threading
from email.utils import formatdate
from pathlib import Path

from chalice import local

from infra.yutang_infra.console_routing import is_file_path

PREFIX = "/console"
IMMUTABLE = "public, max-age=31536000, immutable"
TYPES = {".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8",
         ".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png",
         ".ico": "image/x-icon", ".woff2": "font/woff2", ".woff": "font/woff",
         ".ttf": "font/ttf", ".map": "application/json", ".txt": "text/plain; charset=utf-8",
         ".webp": "image/webp", ".jpg": "image/jpeg"}
COMPRESSIBLE = {".js", ".mjs", ".css", ".html", ".json", ".svg", ".map", ".txt"}
_GZIP_CACHE: dict[tuple[str, int], bytes] = {}  # (path, mtime_ns) -> gzip bytes, as a CDN keeps them
_GZIP_LOCK = threading.Lock()
NOT_BUILT = (b"<!doctype html><meta charset=utf-8><title>console not built</title>"
             b"<p>The console has not been built: run <code>make console</code> "
             b"(or <code>make dev</code>, which builds it).</p>")


def content_type(path: Path) -> str:
    return TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] \
        or "application/octet-stream"


def resolve(dist: Path, url_path: str) -> tuple[int, Path | None, dict[str, str]]:
    """What to answer for a request path under /console: (status, file or None, headers)."""
    path = url_path.split("?", 1)[0].split("#", 1)[0]
    if path == PREFIX:
        return 301, None, {"Location": PREFIX + "/"}
    rel = path[len(PREFIX) + 1:]
    index = dist / "index.html"
    if not index.is_file():
        return 503, None, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
    root = dist.resolve()
    candidate = (root / rel).resolve() if rel else index.resolve()
    if root != candidate and root not in candidate.parents:
        return 404, None, {}
    if candidate.is_file():
        cache = IMMUTABLE if rel.startswith("assets/") else "no-cache"
        return 200, candidate, {"Cache-Control": cache}
    if is_file_path(rel):  # a missing file, not a screen: no HTML for it
        return 404, None, {}
    return 200, index.resolve(), {"Cache-Control": "no-cache"}


def gzipped(path: Path, mtime_ns: int) -> bytes:
    """The file gzip-compressed once (as CloudFront compresses it in front of S3)."""
    key = (str(path), mtime_ns)
    with _GZIP_LOCK:
        hit = _GZIP_CACHE.get(key)
    if hit is None:
        hit = gzip.compress(path.read_bytes(), 6, mtime=0)
        with _GZIP_LOCK:
            _GZIP_CACHE[key] = hit
    return hit


def accepts_gzip(accept_encoding: str | None) -> bool:
    for part in (accept_encoding or "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0")
    return False


def install(dist: Path) -> None:
    """Answer GET/HEAD under /console from `dist` before Chalice's local routing."""
    handler = local.ChaliceRequestHandler
    if getattr(handler, "_yutang_console", None) is not None:
        handler._yutang_console = dist
        return
    original_get, original_head = handler.do_GET, handler.do_HEAD

    def wrap(original):  # type: ignore[no-untyped-def]
        def do(self):  # type: ignore[no-untyped-def]
            path = self.path.split("?", 1)[0]
            if path == PREFIX or path.startswith(PREFIX + "/"):
                serve(self, handler._yutang_console)
                return
            original(self)
        return do

    # (do_GET/do_HEAD are bound to the original _generic_handle when the class is created)
    handler.do_GET, handler.do_HEAD = wrap(original_get), wrap(original_head)
    handler._yutang_console = dist


def serve(request, dist: Path) -> None:  # type: ignore[no-untyped-def]
    status, file, headers = resolve(dist, request.path)
    headers = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
               "Referrer-Policy": "same-origin", **headers}
    body = b""
    if file is not None:
        stat = file.stat()
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        headers.update({"Content-Type": content_type(file), "ETag": etag,
                        "Last-Modified": formatdate(stat.st_mtime, usegmt=True)})
        if file.suffix.lower() in COMPRESSIBLE:
            headers["Vary"] = "Accept-Encoding"
        if request.headers.get("If-None-Match") == etag:
            status = 304
        elif file.suffix.lower() in COMPRESSIBLE and accepts_gzip(
                request.headers.get("Accept-Encoding")):
            body = gzipped(file, stat.st_mtime_ns)
            headers["Content-Encoding"] = "gzip"
        else:
            body = file.read_bytes()
    elif status == 503:
        body = NOT_BUILT
    elif status == 404:
        headers["Content-Type"] = "application/json"
        body = b'{"error": {"code": "not-found", "message": "No such console file."}}'
    request.send_response(status)
    for k, v in headers.items():
        request.send_header(k, v)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    if request.command != "HEAD" and status != 304:
        request.wfile.write(body)
