"""Admin tenants, tenant API keys and tenant settings."""
from __future__ import annotations

from chalicelib import validate as v
from chalicelib.auth import service
from chalicelib.http import created, json_body, json_response, no_content
from chalicelib.web import Routes, role, tenant_id

routes = Routes(__name__)


@routes.route("/admin/v1/tenants", methods=["POST"])
def create_tenant():
    body = json_body(routes.current_request)
    v.only_keys(body, {"name", "timezone", "owner_email"})
    name = v.text(body, "name", required=True, max_len=100)
    owner_email = None
    if body.get("owner_email") is not None:
        from chalicelib.members.emails import normalize_email

        owner_email = normalize_email(body["owner_email"], "owner_email")
    return created(service.create_tenant(name, v.timezone_name(body, "timezone"), owner_email))


@routes.route("/v1/api-keys", methods=["POST"])
def create_api_key():
    raw = routes.current_request.raw_body
    body = json_body(routes.current_request) if raw and raw.strip() else {}
    v.only_keys(body, {"label", "role"})
    from chalicelib.members.policy import ROLES

    request = routes.current_request
    return created(service.create_api_key(
        tenant_id(request), label=v.text(body, "label", max_len=100),
        role=v.choice(body, "role", ROLES, default=service.DEFAULT_KEY_ROLE),
        creator_role=role(request)))


@routes.route("/v1/api-keys", methods=["GET"])
def list_api_keys():
    return json_response({"items": service.list_api_keys(tenant_id(routes.current_request)),
                          "next_cursor": None})


@routes.route("/v1/api-keys/{key}", methods=["DELETE"])
def delete_api_key(key):
    request = routes.current_request
    service.revoke_api_key(tenant_id(request), key)
    return no_content()


@routes.route("/v1/tenant", methods=["GET"])
def get_tenant():
    tenant = service.get_tenant(tenant_id(routes.current_request), max_age=0)
    return json_response(service.tenant_view(tenant))


@routes.route("/v1/tenant", methods=["PATCH"])
def update_tenant():
    body = json_body(routes.current_request)
    v.only_keys(body, {"name", "timezone", "webhook_url", "rotate_webhook_secret"})
    changes = {"name": v.text(body, "name", max_len=100),
               "timezone": v.timezone_name(body, "timezone"),
               "rotate_webhook_secret": v.boolean(body, "rotate_webhook_secret", default=False)}
    if "webhook_url" in body:
        changes["webhook_url"] = v.webhook_url(body, "webhook_url")
    return json_response(service.update_tenant(tenant_id(routes.current_request), changes))
