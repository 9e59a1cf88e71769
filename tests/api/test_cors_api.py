"""CORS for the brand's H5 origins, configured at run time (YUTANG_CORS_ORIGINS)."""
import pytest

from chalicelib.settings import reset_settings
from tests.conftest import auth_headers
from tests.support.api import assert_error

H5 = "https://h5.brand.example"


@pytest.fixture
def cors_origins(monkeypatch):
    monkeypatch.setenv("YUTANG_CORS_ORIGINS", f"{H5}, https://admin.brand.example/")
    reset_settings()
    yield
    monkeypatch.undo()
    reset_settings()


def test_preflight_for_an_allowed_origin(app_client, cors_origins):
    resp = app_client.http.request("OPTIONS", "/v1/livecodes/abc", headers={
        "Origin": H5, "Access-Control-Request-Method": "PATCH"})
    assert resp.status_code == 204
    assert resp.headers["Access-Control-Allow-Origin"] == H5
    assert set(resp.headers["Access-Control-Allow-Methods"].split(", ")) == {"DELETE", "GET", "PATCH",
                                                                             "OPTIONS"}
    assert "Authorization" in resp.headers["Access-Control-Allow-Headers"]


def test_preflight_for_another_origin_is_refused(app_client, cors_origins):
    resp = app_client.http.request("OPTIONS", "/mp/v1/me", headers={"Origin": "https://evil.example"})
    assert_error(resp, 403, "cors-origin-not-allowed")


def test_real_answers_carry_the_origin_only_when_allowed(app_client, tenant, cors_origins):
    ok = app_client.http.get("/v1/tenant", headers={**auth_headers(tenant), "Origin": H5})
    assert ok.status_code == 200 and ok.headers["Access-Control-Allow-Origin"] == H5
    assert ok.headers["Vary"] == "Origin"
    admin = app_client.http.get("/v1/tenant", headers={**auth_headers(tenant),
                                                       "Origin": "https://admin.brand.example"})
    assert admin.headers["Access-Control-Allow-Origin"] == "https://admin.brand.example"
    other = app_client.http.get("/v1/tenant", headers={**auth_headers(tenant), "Origin": "https://x.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    unauthenticated = app_client.http.get("/v1/tenant", headers={"Origin": H5})
    assert unauthenticated.status_code == 401  # CORS never bypasses authentication


def test_no_origins_configured_means_no_cross_origin_access(app_client, tenant):
    resp = app_client.http.request("OPTIONS", "/v1/tenant", headers={"Origin": H5})
    assert_error(resp, 403, "cors-origin-not-allowed")
    assert "Access-Control-Allow-Origin" not in app_client.http.get(
        "/v1/tenant", headers={**auth_headers(tenant), "Origin": H5}).headers


def test_preflight_accepts_any_content_type_and_errors_keep_the_shape(app_client, cors_origins):
    resp = app_client.http.request("OPTIONS", "/c/abc", headers={
        "Origin": H5, "Content-Type": "multipart/form-data"})
    assert resp.status_code == 204
    refused = app_client.http.request("OPTIONS", "/c/abc", headers={
        "Origin": "https://evil.example", "Content-Type": "multipart/form-data"})
    assert_error(refused, 403, "cors-origin-not-allowed")
