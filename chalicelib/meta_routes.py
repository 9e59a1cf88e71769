"""GET /openapi.json."""
from chalicelib.http import json_response
from chalicelib.web import Routes

routes = Routes(__name__)


@routes.route("/openapi.json", methods=["GET"])
def get_openapi():
    from chalicelib import apidoc

    return json_response(apidoc.document(), headers={"Cache-Control": "public, max-age=300"})
