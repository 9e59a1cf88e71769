"""HTTP routes: 企业微信 settings (marketer API) and the callback endpoint (signature-authenticated)."""
from __future__ import annotations

from chalice import Response

from chalicelib.errors import PayloadTooLarge
from chalicelib.http import json_body, json_response, no_content, query
from chalicelib.web import Routes
from chalicelib.web import tenant_id as request_tenant

routes = Routes(__name__)
CALLBACK_TYPES = ["text/xml", "application/xml", "text/plain", "application/json",
                  "application/x-www-form-urlencoded"]
MAX_CALLBACK_BYTES = 64 * 1024


def _text(body: str) -> Response:
    return Response(body=body, status_code=200,
                    headers={"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"})


@routes.route("/v1/integrations/wecom", methods=["PUT"])
def put_wecom_settings():
    from chalicelib.wecom import integration

    request = routes.current_request
    return json_response(integration.put(request_tenant(request), json_body(request)))


@routes.route("/v1/integrations/wecom", methods=["GET"])
def get_wecom_settings():
    from chalicelib.wecom import integration

    return json_response(integration.get(request_tenant(routes.current_request)))


@routes.route("/v1/integrations/wecom/health", methods=["GET"])
def get_wecom_health():
    from chalicelib.wecom import integration

    return json_response(integration.health(request_tenant(routes.current_request)))


@routes.route("/v1/integrations/wecom", methods=["DELETE"])
def delete_wecom_settings():
    from chalicelib.wecom import integration

    integration.delete(request_tenant(routes.current_request))
    return no_content()


@routes.route("/v1/integrations/wecom/contacts/{external_userid}", methods=["GET"])
def get_wecom_contact(external_userid):
    from chalicelib.wecom import attribution

    return json_response(attribution.get_contact(request_tenant(routes.current_request), external_userid))


@routes.route("/v1/integrations/wecom/livecodes/{code_id}/stats", methods=["GET"])
def get_wecom_livecode_stats(code_id):
    from chalicelib.livecodes import service as livecodes
    from chalicelib.wecom import stats

    request = routes.current_request
    params = query(request)
    code = livecodes.load(request_tenant(request), code_id)
    return json_response(stats.livecode_stats(code, params.get("from"), params.get("to")))


@routes.route("/wecom/v1/callback/{tenant_id}", methods=["GET"])
def verify_wecom_callback(tenant_id):
    from chalicelib.wecom import callbacks

    return _text(callbacks.verify_url(tenant_id, query(routes.current_request)))


@routes.route("/wecom/v1/callback/{tenant_id}", methods=["POST"], content_types=CALLBACK_TYPES)
def receive_wecom_callback(tenant_id):
    from chalicelib.wecom import callbacks

    request = routes.current_request
    raw = request.raw_body or b""
    if len(raw) > MAX_CALLBACK_BYTES:
        raise PayloadTooLarge(f"a callback body is at most {MAX_CALLBACK_BYTES} bytes")
    callbacks.receive(tenant_id, query(request), raw if isinstance(raw, bytes) else raw.encode())
    return _text("success")
