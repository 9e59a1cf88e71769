"""GET /openapi.json describes every route, and is a valid OpenAPI 3.1 document."""
import json
import re

import app as app_module


def _spec(app_client):
    resp = app_client.http.get("/openapi.json")
    assert resp.status_code == 200
    return json.loads(resp.body)


def test_every_route_and_method_is_documented(app_client):
    spec = _spec(app_client)
    for path, methods in app_module.app.routes.items():
        assert path in spec["paths"], f"{path} missing from /openapi.json"
        for method in methods:
            assert method.lower() in spec["paths"][path], f"{method} {path} missing"


def test_nothing_documented_that_does_not_exist(app_client):
    spec = _spec(app_client)
    for path, ops in spec["paths"].items():
        assert path in app_module.app.routes, f"{path} documented but not routed"
        for method in ops:
            assert method.upper() in app_module.app.routes[path], f"{method} {path} not routed"


def test_path_parameters_match(app_client):
    spec = _spec(app_client)
    for path, ops in spec["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for op in ops.values():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == names, f"{path}: {declared} != {names}"


def test_the_document_is_valid_openapi(app_client):
    from openapi_spec_validator import validate

    validate(_spec(app_client))


def test_openapi_needs_no_auth(app_client):
    assert app_client.http.get("/openapi.json").status_code == 200
