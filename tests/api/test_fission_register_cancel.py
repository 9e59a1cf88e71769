"""Fission registration reads a cancelled transaction honestly (issue 12): only
``ConditionalCheckFailed`` on the participant means "this person is already registered"; a
conflict is retried and any other reason is an error, never a wrong 404 or a silent refresh."""
import contextlib

import pytest
from pynamodb.exceptions import TransactWriteError

from chalicelib.fission import participants
from chalicelib.fission.models import FissionTask
from tests.support.fission import make_task


class Cancelled(TransactWriteError):
    def __init__(self, codes):
        super().__init__("cancelled")
        self.codes = codes

    @property
    def cause_response_code(self):
        return "TransactionCanceledException"

    @property
    def cancellation_reasons(self):
        return [None if c is None else type("R", (), {"code": c})() for c in self.codes]


def failing_transaction(monkeypatch, *attempts):
    real = FissionTask.transaction
    calls = []

    @contextlib.contextmanager
    def fake():
        calls.append(1)
        if len(calls) <= len(attempts):
            yield real()
            raise Cancelled(attempts[len(calls) - 1])
        with real() as tx:
            yield tx
    monkeypatch.setattr(FissionTask, "transaction", fake)
    return calls


def test_a_validation_cancel_is_not_read_as_already_registered(app_client, tenant, monkeypatch):
    task = make_task(app_client, tenant)
    failing_transaction(monkeypatch, ["ValidationError", None])
    with pytest.raises(TransactWriteError):
        participants.register(tenant["tenant_id"], task["id"], {"nickname": "n", "openid": "o-1"})


def test_a_conflict_is_retried_and_registers(app_client, tenant, monkeypatch):
    task = make_task(app_client, tenant)
    calls = failing_transaction(monkeypatch, ["TransactionConflict", None])
    view, is_new = participants.register(tenant["tenant_id"], task["id"], {"nickname": "n", "openid": "o-1"})
    assert is_new and len(calls) == 2 and view["nickname"] == "n"


def test_condition_failed_means_exists(app_client, tenant):
    task = make_task(app_client, tenant)
    first, new1 = participants.register(tenant["tenant_id"], task["id"], {"nickname": "a", "openid": "o-1"})
    again, new2 = participants.register(tenant["tenant_id"], task["id"], {"nickname": "b", "openid": "o-1"})
    assert new1 and not new2 and again["participant_id"] == first["participant_id"]
