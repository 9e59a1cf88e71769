"""The deployment's secrets reach the code by ARN and are read from Secrets Manager where they are
needed, once per container and TTL (issue 12, "the AWS definition")."""
import pytest

from chalicelib import aws, secret_store
from chalicelib.settings import get_settings, reset_settings


@pytest.fixture
def arns(aws_stack, monkeypatch):
    sm = aws.client("secretsmanager")
    made = {}
    for env, value in (("YUTANG_SECRET_ARN", "app-secret-from-sm"),
                       ("YUTANG_ADMIN_KEY_ARN", "admin-key-from-sm"),
                       ("YUTANG_DATA_KEY_ARN", "data-key-from-sm")):
        arn = sm.create_secret(Name=f"yutang/test/{env}-{id(made)}", SecretString=value)["ARN"]
        monkeypatch.setenv(env, arn)
        made[env] = arn
    monkeypatch.setenv("YUTANG_SECRET", "plain-should-not-be-used")
    reset_settings()
    secret_store.forget()
    yield made
    monkeypatch.undo()
    reset_settings()
    get_settings()
    secret_store.forget()


def test_secrets_are_resolved_from_secrets_manager_and_cached(arns, monkeypatch):
    calls = []
    real = aws.client("secretsmanager")

    class Counting:
        def get_secret_value(self, **kw):
            calls.append(kw["SecretId"])
            return real.get_secret_value(**kw)

    monkeypatch.setitem(aws._clients, "secretsmanager", Counting())
    assert secret_store.app_secret() == "app-secret-from-sm"
    assert secret_store.admin_key() == "admin-key-from-sm"
    assert secret_store.data_key() == "data-key-from-sm"
    for _ in range(5):
        secret_store.app_secret()
    assert sorted(calls) == sorted(arns.values())  # once each
    monkeypatch.setattr(secret_store, "TTL", 0.0)
    secret_store.forget()
    secret_store.app_secret()
    secret_store.app_secret()
    assert len(calls) == 5  # expired entries are read again


def test_the_app_uses_the_resolved_secrets(arns):
    from chalicelib import vault
    from chalicelib.auth import service as auth
    from chalicelib.ids import new_id
    from chalicelib.mp import tokens

    tenant, user = new_id(8), new_id(12)
    token, _ = tokens.issue(tenant, user)
    assert tokens.verify(token) == (tenant, user)
    reset_settings()
    forged = token.rsplit(".", 1)[0] + "." + token.rsplit(".", 1)[1][::-1]
    from chalicelib.errors import Unauthorized

    with pytest.raises(Unauthorized):
        tokens.verify(forged)
    auth.check_admin("admin-key-from-sm")
    sealed = vault.seal("tenant01", "p", "x")
    assert vault.unseal("tenant01", "p", sealed) == "x"
    assert "from-sm" not in get_settings().secret


def test_without_arns_the_plain_settings_are_used(aws_stack):
    secret_store.forget()
    cfg = get_settings()
    assert cfg.secret_arn is None and secret_store.app_secret() == cfg.secret
