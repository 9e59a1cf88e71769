"""OpenAPI paths for entry domains and the entry redirect."""
from chalicelib.openapi import list_of, op, path_param, query_param, ref

TAG = "entry-domains"
_DOMAIN = path_param("domain", "the host name as listed (e.g. go.example.com)")
SCHEMAS = {
    "EntryDomain": {"type": "object", "properties": {
        "domain": {"type": "string"}, "status": {"enum": ["active", "blocked"]},
        "current": {"type": "boolean", "description": "the domain entries redirect to now"},
        "added_at": {"type": "string", "format": "date-time"},
        "blocked_at": {"type": ["string", "null"], "format": "date-time"}}},
}
_LIST = list_of(ref("EntryDomain"))
_LIST["properties"]["current"] = {"type": ["string", "null"],
                                  "description": "the first active domain, or null"}
PATHS = {
    "/v1/entry-domains": {
        "get": op("List entry domains", TAG, response=_LIST, errors=(),
                  description="The tenant's landing domains in priority order; /e/{slug} redirects "
                              "to the first active one."),
        "post": op("Add an entry domain", TAG, ok=201, response=ref("EntryDomain"),
                   errors=(400, 409), body={
                       "type": "object", "required": ["domain"], "additionalProperties": False,
                       "properties": {"domain": {"type": "string", "description":
                                                 "a host name (IDNA allowed), no scheme or path"}}},
                   description="Appended as active, at most 20. The domain must point at this "
                               "deployment's public API (docs/livecodes.md, entry domains)."),
    },
    "/v1/entry-domains/{domain}": {
        "patch": op("Mark an entry domain blocked or active", TAG, params=[_DOMAIN],
                    response=ref("EntryDomain"), body={
                        "type": "object", "required": ["status"], "additionalProperties": False,
                        "properties": {"status": {"enum": ["active", "blocked"]}}},
                    description="A blocked domain stops receiving entries within a second."),
        "delete": op("Remove an entry domain", TAG, params=[_DOMAIN], ok=204),
    },
    "/e/{slug}": {"get": op(
        "Enter a live code", TAG, auth=None, params=[path_param("slug"), query_param("ref")],
        ok=302, errors=(400, 404),
        description="The stable URL printed in QR codes when the tenant lists entry domains: a "
                    "302 to /s/{slug} (with ref) on the tenant's current landing domain, or on "
                    "this deployment's own host when none is active. It never redirects anywhere "
                    "else.")},
}
