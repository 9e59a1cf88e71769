"""Every stored secret is sealed (issue 12, item 2): the raw DynamoDB items of every table hold
none of a tenant's configured secrets — mini-program AppSecret, webhook secret, 企业微信 secret,
Token and EncodingAESKey — and rows written before sealing are sealed when first read."""
import json

from chalicelib import aws
from chalicelib.auth import service as auth
from chalicelib.auth.models import Tenant
from chalicelib.mp import service as mp
from chalicelib.mp.models import MpApp
from tests.conftest import auth_headers
from tests.support import wecom as wecom_support
from tests.support.wecom import fake_wecom  # noqa: F401


def raw_items() -> str:
    """Every item of every Yutang table, as DynamoDB stores it, in one text."""
    from chalicelib.settings import get_settings

    client = aws.client("dynamodb")
    prefix = get_settings().table_prefix
    dump = []
    for name in client.list_tables()["TableNames"]:
        if not name.startswith(prefix):
            continue
        for page in client.get_paginator("scan").paginate(TableName=name):
            dump.extend(json.dumps(item, ensure_ascii=False) for item in page["Items"])
    return "\n".join(dump)


def test_no_configured_secret_is_stored_readable(app_client, tenant, fake_wecom):  # noqa: F811
    h = auth_headers(tenant)
    mp_secret = "mp-app-secret-0123456789abcdef"
    resp = app_client.http.put("/v1/mp/settings", headers=h, body=json.dumps(
        {"appid": "wx0123456789abcdef", "secret": mp_secret}))
    assert resp.status_code == 200, resp.body
    resp = app_client.http.patch("/v1/tenant", headers=h, body=json.dumps({"rotate_webhook_secret": True}))
    webhook_secret = json.loads(resp.body)["webhook_secret"]
    assert webhook_secret and len(webhook_secret) >= 24
    wecom_support.configure(tenant["tenant_id"])
    dump = raw_items()
    assert tenant["tenant_id"] in dump  # the scan does see this tenant's rows
    for secret in (mp_secret, webhook_secret, wecom_support.SECRET, wecom_support.AES_KEY,
                   tenant["api_key"]):
        assert secret not in dump, secret
    mp.clear_caches()
    assert mp.credentials(tenant["tenant_id"]) == ("wx0123456789abcdef", mp_secret)
    auth.clear_caches()
    assert auth.webhook_secret(auth.get_tenant(tenant["tenant_id"])) == webhook_secret


def test_legacy_plain_rows_are_sealed_on_read(tenant):
    tid = tenant["tenant_id"]
    Tenant.get(tid).update(actions=[Tenant.webhook_secret.set("legacy-webhook-secret-xyz"),
                                    Tenant.webhook_secret_sealed.remove()])
    MpApp(tenant_id=tid, appid="wx0123456789abcdef", secret="legacy-mp-secret-xyz",
          updated_at=Tenant.get(tid).created_at).save()
    assert "legacy-webhook-secret-xyz" in raw_items()
    auth.clear_caches()
    mp.clear_caches()
    assert auth.webhook_secret(auth.get_tenant(tid, max_age=0)) == "legacy-webhook-secret-xyz"
    assert mp.credentials(tid) == ("wx0123456789abcdef", "legacy-mp-secret-xyz")
    dump = raw_items()
    assert "legacy-webhook-secret-xyz" not in dump and "legacy-mp-secret-xyz" not in dump
    stored = Tenant.get(tid)
    assert stored.webhook_secret is None and stored.webhook_secret_sealed.startswith("v1:")
    assert MpApp.get(tid).secret is None
    mp.clear_caches()
    assert mp.credentials(tid) == ("wx0123456789abcdef", "legacy-mp-secret-xyz")  # reads sealed
