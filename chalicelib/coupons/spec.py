"""OpenAPI paths for coupon pools, grants and redemptions."""
from chalicelib.openapi import list_of, op, path_param, ref

TAG = "coupons"
_TIME = {"type": ["string", "null"], "format": "date-time"}
_ID = path_param("pool_id")
_CODES = {"type": "array", "minItems": 1, "maxItems": 1000,
          "items": {"type": "string", "pattern": "^[A-Za-z0-9_-]{4,64}$"}}
SCHEMAS = {
    "CouponPoolInput": {
        "type": "object", "additionalProperties": False, "required": ["name"],
        "description": "either codes (uploaded) or generate",
        "properties": {
            "name": {"type": "string", "maxLength": 100}, "codes": _CODES,
            "generate": {"type": "object", "required": ["pattern", "count"], "properties": {
                "pattern": {"type": "string", "example": "VIP-########", "description":
                            "A-Z 0-9 - and one run of 6-16 '#' (even), filled per code"},
                "count": {"type": "integer", "minimum": 1, "maximum": 1000000}}}}},
    "CouponPool": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"},
        "kind": {"enum": ["uploaded", "generated"]}, "pattern": {"type": ["string", "null"]},
        "size": {"type": "integer", "description": "codes the pool can issue"},
        "issued": {"type": "integer"}, "redeemed": {"type": "integer"},
        "left": {"type": "integer"}, "created_at": _TIME}},
    "CouponGrant": {"type": "object", "properties": {
        "pool_id": {"type": "string"}, "code": {"type": "string"},
        "scope": {"type": "string", "example": "campaign:abc123",
                  "description": "campaign:<id>, fission:<task>, journey:<id>:<step>"},
        "person": {"type": "string", "description": "user id (participant id for fission)"},
        "status": {"enum": ["issued", "redeemed"]}, "granted_at": _TIME,
        "redeemed_at": _TIME}},
    "CouponRedemption": {"type": "object", "additionalProperties": False, "required": ["code"],
                         "properties": {"code": {"type": "string"},
                                        "user_id": {"type": "string", "description":
                                                    "refuse (409) if granted to someone else"}}},
}
PATHS = {
    "/v1/coupons": {
        "post": op("Create a coupon pool", TAG, body=ref("CouponPoolInput"), ok=201,
                   response=ref("CouponPool"), errors=(400, 409)),
        "get": op("List coupon pools (with stats)", TAG, response=list_of(ref("CouponPool"))),
    },
    "/v1/coupons/{pool_id}": {"get": op(
        "Get a coupon pool and its stats", TAG, params=[_ID], response=ref("CouponPool"))},
    "/v1/coupons/{pool_id}/codes": {"post": op(
        "Upload more codes to a pool", TAG, params=[_ID], response=ref("CouponPool"),
        body={"type": "object", "required": ["codes"], "properties": {"codes": _CODES}},
        errors=(400, 404, 409))},
    "/v1/coupons/{pool_id}/grants": {"get": op(
        "List a pool's grants", TAG, params=[_ID], response=list_of(ref("CouponGrant")))},
    "/v1/coupons/redemptions": {"post": op(
        "Report a coupon redeemed", TAG, body=ref("CouponRedemption"),
        response=ref("CouponGrant"), errors=(400, 404, 409),
        description="Also: POST /v1/events {type: coupon_redeemed, properties: {code}}. "
                    "Idempotent: a repeat answers the redeemed grant.")},
}
