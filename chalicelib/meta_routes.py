"""GET /openapi.json."""
from chalicelib.http import json_response
from chalicelib.web import Routes

routes = Routes(__name__)


@routes.route("/openapi.json", methods=["GET"])
def get_openapi():
    from chalicelib import openapi

    return json_response(openapi.document(), headers={"Cache-Control": "public, max-age=300"})
