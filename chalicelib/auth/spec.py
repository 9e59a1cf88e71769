"""OpenAPI paths for tenants, API keys and tenant settings."""
from chalicelib.openapi import list_of, op, path_param, ref

TAG = "tenancy"
SCHEMAS = {
    "NewTenant": {"type": "object", "required": ["name"], "additionalProperties": False,
                  "properties": {"name": {"type": "string", "maxLength": 100},
                                 "timezone": {"type": "string", "example": "Asia/Shanghai"},
                                 "owner_email": {"type": "string", "format": "email",
                                                 "description": "invites this owner member"}}},
    "TenantCreated": {"type": "object", "properties": {
        "tenant_id": {"type": "string"}, "name": {"type": "string"},
        "api_key": {"type": "string", "description": "shown once; only its hash is stored"},
        "api_key_id": {"type": "string"},
        "api_key_role": {"enum": ["owner"], "description": "the first key is the tenant's owner"},
        "owner": {"$ref": "#/components/schemas/Invite"}}},
    "ApiKey": {"type": "object", "properties": {
        "id": {"type": "string"}, "api_key": {"type": "string"}, "label": {"type": ["string", "null"]},
        "role": {"enum": ["owner", "admin", "operator", "analyst"],
                 "description": "keys from before roles act as admin"},
        "created_at": {"type": "string", "format": "date-time"}}},
    "Tenant": {"type": "object", "properties": {
        "tenant_id": {"type": "string"}, "name": {"type": "string"}, "timezone": {"type": "string"},
        "webhook_url": {"type": ["string", "null"]},
        "webhook_secret": {"type": ["string", "null"],
                           "description": "HMAC-SHA256 key for X-Yutang-Signature"},
        "created_at": {"type": "string", "format": "date-time"}}},
    "TenantPatch": {"type": "object", "additionalProperties": False, "properties": {
        "name": {"type": "string"}, "timezone": {"type": "string"},
        "webhook_url": {"type": ["string", "null"], "format": "uri"},
        "rotate_webhook_secret": {"type": "boolean"}}},
}


def optional_body(operation: dict) -> dict:
    operation["requestBody"]["required"] = False
    return operation


PATHS = {
    "/admin/v1/tenants": {"post": op("Create a tenant", TAG, body=ref("NewTenant"), ok=201,
                                     response=ref("TenantCreated"), auth="adminKey",
                                     errors=(400, 403))},
    "/v1/api-keys": {
        "post": optional_body(op(
            "Create an API key", TAG, ok=201, response=ref("ApiKey"), errors=(400, 403),
            body={"type": "object", "additionalProperties": False, "properties": {
                "label": {"type": "string", "maxLength": 100},
                "role": {"enum": ["owner", "admin", "operator", "analyst"], "default": "admin",
                         "description": "never above the caller's own role"}}},
            description="The body is optional: no body (or `{}`) creates an `admin` key without a label.")),
        "get": op("List API keys", TAG, response=list_of(ref("ApiKey")), errors=()),
    },
    "/v1/api-keys/{key}": {"delete": op("Revoke an API key", TAG, ok=204, errors=(403, 404),
                                        params=[path_param("key")])},
    "/v1/tenant": {
        "get": op("Get the tenant's settings", TAG, response=ref("Tenant"), errors=()),
        "patch": op("Update the tenant's settings", TAG, body=ref("TenantPatch"),
                    response=ref("Tenant")),
    },
}
