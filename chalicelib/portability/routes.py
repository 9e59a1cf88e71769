"""Export and import routes (marketer API)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import validate as v
from chalicelib.http import created, json_body, json_response, query
from chalicelib.lazy import lazy
from chalicelib.web import Routes, tenant_id

routes = Routes(__name__)
if TYPE_CHECKING:  # the edges, for readers and mypy; at run time each loads on first use
    from chalicelib.portability import exports, imports
else:
    exports = lazy("chalicelib.portability.exports")
    imports = lazy("chalicelib.portability.imports")


@routes.route("/v1/exports", methods=["POST"])
def create_export():
    request = routes.current_request
    return json_response(exports.create(tenant_id(request), json_body(request)), status=202)


@routes.route("/v1/exports", methods=["GET"])
def list_exports():
    request = routes.current_request
    params = query(request)
    return json_response(exports.list_exports(tenant_id(request), v.page_limit(params),
                                              params.get("cursor")))


@routes.route("/v1/exports/{export_id}", methods=["GET"])
def get_export(export_id):
    return json_response(exports.get(tenant_id(routes.current_request), export_id))


@routes.route("/v1/imports", methods=["POST"])
def create_import():
    request = routes.current_request
    return created(imports.create(tenant_id(request), json_body(request)))


@routes.route("/v1/imports", methods=["GET"])
def list_imports():
    request = routes.current_request
    params = query(request)
    return json_response(imports.list_imports(tenant_id(request), v.page_limit(params),
                                              params.get("cursor")))


@routes.route("/v1/imports/{import_id}", methods=["GET"])
def get_import(import_id):
    return json_response(imports.get(tenant_id(routes.current_request), import_id))


@routes.route("/v1/imports/{import_id}/start", methods=["POST"])
def start_import(import_id):
    return json_response(imports.start(tenant_id(routes.current_request), import_id), status=202)
