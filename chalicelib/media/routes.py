"""GET /m/{tenant}/{folder}/{name}: content-addressed, so cacheable forever."""
from __future__ import annotations

from chalice import Response

from chalicelib import media
from chalicelib.web import Routes

routes = Routes(__name__)


@routes.route("/m/{tenant}/{folder}/{name}", methods=["GET"])
def get_media(tenant, folder, name):
    data, content_type = media.read_public(tenant, folder, name)
    return Response(body=data, status_code=200,
                    headers={"Content-Type": content_type, "X-Content-Type-Options": "nosniff",
                             "Cache-Control": "public, max-age=31536000, immutable"})
