"""OpenAPI parts of a live code's own routing rules: audience rules, store targets, experiments,
and the store landing's position post (merged into :mod:`chalicelib.livecodes.spec`)."""
from typing import Any

from chalicelib.openapi import op, path_param, query_param, ref

TAG = "livecodes"
_IDS = {"type": "array", "minItems": 1, "items": {"type": "string"}}
_TAGS = {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 64}}
STORE = {"type": ["object", "null"], "additionalProperties": False,
         "required": ["lat", "lng", "radius_m"], "properties": {
             "lat": {"type": "number", "minimum": -90, "maximum": 90},
             "lng": {"type": "number", "minimum": -180, "maximum": 180},
             "radius_m": {"type": "integer", "minimum": 1, "maximum": 500000},
             "region": {"type": "string", "maxLength": 64,
                        "description": "the region the IP table names (docs/livecodes.md)"}},
         "description": "a store target (门店活码): reached by visitors within `radius_m` of it "
                        "(nearest first) or, without a position, from its `region`; null: an "
                        "ordinary target"}
_ARM = {"type": "object", "additionalProperties": False, "required": ["name", "target_ids"],
        "properties": {"name": {"type": "string", "maxLength": 32},
                       "weight": {"type": "integer", "minimum": 0, "maximum": 1000, "default": 1},
                       "target_ids": _IDS}}
_NUM = {"type": ["number", "null"]}
SCHEMAS: dict[str, Any] = {
    "AudienceRules": {"type": "object", "additionalProperties": False, "required": ["rules"],
                      "properties": {"rules": {"type": "array", "maxItems": 20, "items": {
                          "type": "object", "additionalProperties": False,
                          "required": ["target_ids"], "properties": {
                              "tags_all": _TAGS, "tags_any": _TAGS, "tags_none": _TAGS,
                              "stages": {"type": "array", "items": {
                                  "enum": ["new", "active", "silent", "churned", "paying"]}},
                              "target_ids": _IDS},
                          "description": "needs tags_all, tags_any or stages; the first rule "
                                         "that matches and has room wins"}}}},
    "ExperimentInput": {"type": "object", "additionalProperties": False,
                        "required": ["goal", "arms"], "properties": {
                            "goal": {"enum": ["adds", "joins", "conversions"]},
                            "arms": {"type": "array", "minItems": 2, "maxItems": 10, "items": _ARM}}},
    "ExperimentWinner": {"type": "object", "additionalProperties": False, "required": ["arm"],
                         "properties": {"arm": {"type": "string"}}},
    "Experiment": {"type": "object", "properties": {
        "goal": {"type": "string"}, "winner": {"type": ["string", "null"]},
        "leader": {"type": ["string", "null"], "description": "the arm with the best rate so far"},
        "chi_square": _NUM, "p_value": {**_NUM, "description": "chi-square test over all arms"},
        "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
        "timezone": {"type": "string"}, "started_at": {"type": "string"},
        "winner_at": {"type": ["string", "null"]},
        "arms": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "weight": {"type": "integer"}, "target_ids": _IDS,
            "visitors": {"type": "integer", "description": "new visitors placed in the arm"},
            "goal": {"type": "integer"}, "rate": _NUM,
            "z": {**_NUM, "description": "two-proportion z against the first arm"},
            "p_value": {**_NUM, "description": "two-sided, against the first arm"}}}}}},
    "ScanPosition": {"type": "object", "additionalProperties": False, "properties": {
        "lat": {"type": ["number", "string"]}, "lng": {"type": ["number", "string"]},
        "denied": {"type": ["boolean", "string"], "description": "the visitor declined"}}},
}
_ID = path_param("code_id", "live code id")
PATHS: dict[str, Any] = {
    "/v1/livecodes/{code_id}/audience-rules": {"put": op(
        "Set the audience rules", TAG, params=[_ID], body=ref("AudienceRules"),
        response=ref("AudienceRules"), errors=(400, 404, 409),
        description="Known customers (mini-program token or identity cookie) whose tags/stage "
                    "match a rule go to its targets; those targets are reserved for the rules.")},
    "/v1/livecodes/{code_id}/experiment": {
        "get": op("Get the experiment's figures", TAG, params=[_ID], response=ref("Experiment"),
                  errors=(404, 409)),
        "put": op("Start (or replace) the experiment", TAG, params=[_ID],
                  body=ref("ExperimentInput"), response=ref("Experiment"), errors=(400, 404, 409)),
        "delete": op("End the experiment", TAG, params=[_ID], ok=204, errors=(404, 409))},
    "/v1/livecodes/{code_id}/experiment/winner": {"post": op(
        "Confirm the experiment's winner", TAG, params=[_ID], body=ref("ExperimentWinner"),
        response=ref("Experiment"), errors=(400, 404, 409),
        description="Every new visitor goes to this arm from now on; returning ones keep theirs.")},
}
SCAN_PARAMS = [query_param("lat", {"type": "number"}, "the visitor's position (store codes)"),
               query_param("lng", {"type": "number"}),
               query_param("loc", {"enum": ["skip"]}, "do not ask for the position")]
SCAN_POST = op(
    "Post the visitor's position to a store code", TAG, auth=None,
    params=[path_param("slug"), query_param("ref")],
    body=ref("ScanPosition"),
    content={"text/html": {"schema": {"type": "string"}},
             "application/json": {"schema": ref("ScanAnswer")}},
    description="What the store landing page's form posts (application/x-www-form-urlencoded, or "
                "JSON): routed to the nearest store in reach, else by the IP's region, else the "
                "other targets, else the fallback. Answers like GET.")
