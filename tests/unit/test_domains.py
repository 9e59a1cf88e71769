"""The domain declarations (chalicelib/<pkg>/domain.py, listed in chalicelib/domains.py) are what
app.py, the event dispatcher, the tick, the OpenAPI builder and the table loader read: every route,
consumer, job, OpenAPI part and model comes from one of them, and declaring loads no consumer, job
or spec module."""
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import app as app_module
from chalicelib import db, dispatcher, events, scheduler
from chalicelib.domains import DOMAINS, import_models

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = sorted(p.parent.name for p in (ROOT / "chalicelib").glob("*/__init__.py"))
CONSUMERS = [c for d in DOMAINS for cs in d.consumers.values() for c in cs]

# The consumer names are the ids retried messages carry (``_only``): they never change.
RETRY_IDS = {
    "chalicelib.analytics.aggregate:consume", "chalicelib.livecodes.consumers:check_after_scans",
    "chalicelib.livecodes.consumers:count_unlimited", "chalicelib.coupons.consumers:on_user_events",
    "chalicelib.journeys.consumers:on_events",
    "chalicelib.audience.consumers:tag_scanners", "chalicelib.fission.consumers:record_scans",
    "chalicelib.fission.consumers:on_template_changed", "chalicelib.hooks.consumers:on_events",
    "chalicelib.portability.scanlog:record_scans", "chalicelib.campaigns.dispatch:on_user_events",
    "chalicelib.wecom.consumers:handle_callbacks", "chalicelib.wecom.consumers:handle_cleanup"}


def test_every_package_is_declared_once_with_its_own_routes():
    names = [d.name for d in DOMAINS]
    assert len(names) == len(set(names))
    assert set(names) == set(PACKAGES)  # a new package without a declaration fails here
    registered = {entry.view_function for methods in app_module.app.routes.values()
                  for entry in methods.values()}
    for domain in DOMAINS:
        has_routes = (ROOT / "chalicelib" / domain.name / "routes.py").exists()
        assert (domain.routes is not None) == has_routes, domain.name
        if domain.routes is not None:
            assert domain.routes._import_name == f"chalicelib.{domain.name}.routes"
            module = sys.modules[domain.routes._import_name]
            assert any(getattr(f, "__module__", None) == module.__name__ for f in registered), \
                f"no route of {domain.name} is registered"


def test_each_event_type_reaches_the_consumers_it_reached_before_the_declarations():
    counted = set(events.COUNTED_TYPES)
    user_events = set(events.USER_EVENT_TYPES)
    webhooks = set(events.WEBHOOK_TYPES)
    expected = {t: {"chalicelib.analytics.aggregate:consume"} for t in counted}
    for t in user_events:
        expected[t].add("chalicelib.campaigns.dispatch:on_user_events")
    for t in webhooks:
        expected[t].add("chalicelib.hooks.consumers:on_events")
    expected["scan"] |= {"chalicelib.livecodes.consumers:check_after_scans",
                         "chalicelib.livecodes.consumers:count_unlimited",
                         "chalicelib.audience.consumers:tag_scanners",
                         "chalicelib.fission.consumers:record_scans",
                         "chalicelib.portability.scanlog:record_scans"}
    expected["user_event"].add("chalicelib.coupons.consumers:on_user_events")
    for t in (*user_events, "tag_added", "stage_changed"):
        expected.setdefault(t, set()).add("chalicelib.journeys.consumers:on_events")
    expected["wecom_callback"] = {"chalicelib.wecom.consumers:handle_callbacks"}
    expected["wecom_cleanup"] = {"chalicelib.wecom.consumers:handle_cleanup"}
    expected["template_changed"] = {"chalicelib.fission.consumers:on_template_changed"}
    assert {t: set(names) for t, names in dispatcher.HANDLERS.items()} == expected
    assert {c.name for c in CONSUMERS} == RETRY_IDS
    assert {c.name for c in CONSUMERS if c.batch} == {
        "chalicelib.analytics.aggregate:consume", "chalicelib.fission.consumers:record_scans",
        "chalicelib.hooks.consumers:on_events", "chalicelib.portability.scanlog:record_scans",
        "chalicelib.livecodes.consumers:check_after_scans",
        "chalicelib.livecodes.consumers:count_unlimited"}
    assert {c.name for c in CONSUMERS if c.history} == {
        "chalicelib.analytics.aggregate:consume", "chalicelib.hooks.consumers:on_events"}


@pytest.mark.parametrize("consumer", CONSUMERS, ids=lambda c: c.name)
def test_a_consumer_runs_the_function_its_retry_id_names(consumer, monkeypatch):
    """The name is where the code is: a retried message (``_only``) runs the same function."""
    module, _, func = consumer.name.partition(":")
    seen = []
    monkeypatch.setattr(importlib.import_module(module), func, seen.append)
    consumer.run([{"type": "x"}])
    assert seen == [[{"type": "x"}]]
    assert dispatcher._resolve(consumer.name) is consumer.run


def test_the_tick_runs_each_declared_job_by_its_name(monkeypatch):
    assert [job.name for job in scheduler.JOBS] == [
        "chalicelib.livecodes.consumers:check_expiring", "chalicelib.campaigns.dispatch:run_due",
        "chalicelib.journeys.engine:run_due"]
    for job in scheduler.JOBS:
        module, _, func = job.name.partition(":")
        monkeypatch.setattr(importlib.import_module(module), func, lambda now, n=job.name: n)
    assert scheduler.run_tick("2030-01-02T03:04:05Z") == {j.name: j.name for j in scheduler.JOBS}


def test_every_spec_module_and_every_model_module_is_declared():
    """Each package's spec.py and models.py is named by its own declaration (and by no other)."""
    for domain in DOMAINS:
        folder = ROOT / "chalicelib" / domain.name
        assert domain.spec == (f"chalicelib.{domain.name}.spec" if (folder / "spec.py").exists()
                               else None)
        assert domain.models == (f"chalicelib.{domain.name}.models"
                                 if (folder / "models.py").exists() else None)
    import_models()
    assert {m.__module__ for m in db.all_models()} == {d.models for d in DOMAINS if d.models}


def test_declaring_the_domains_loads_no_consumer_job_or_spec_module():
    script = ("import json, sys; import chalicelib.domains; "
              "print(json.dumps(sorted(m for m in sys.modules if m.startswith('chalicelib.'))))")
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True,
                                           capture_output=True, text=True).stdout))
    named = {c.name.partition(":")[0] for c in CONSUMERS}
    named |= {j.name.partition(":")[0] for d in DOMAINS for j in d.jobs}
    named |= {d.spec for d in DOMAINS if d.spec}  # (models: auth's load with the app, by design)
    assert len(named) > 15
    assert sorted(named & loaded) == []


def test_every_lazy_binding_names_the_module_its_type_checking_import_names():
    """``x = lazy("chalicelib.a.b")`` sits in the else branch of ``if TYPE_CHECKING: from chalicelib.a
    import b as x``, so the edge a reader and mypy follow is the one that loads at run time."""
    import ast

    found = 0
    for path in sorted((ROOT / "chalicelib").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"):
                continue
            typed = {alias.asname or alias.name: f"{imp.module}.{alias.name}" for imp in node.body
                     if isinstance(imp, ast.ImportFrom) for alias in imp.names}
            for stmt in node.orelse:
                call = getattr(stmt, "value", None)
                if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "lazy":
                    found += 1
                    assert typed.get(stmt.targets[0].id) == call.args[0].value, (path, stmt.targets[0].id)
    lazies = sum(path.read_text(encoding="utf-8").count(' = lazy("')
                 for path in (ROOT / "chalicelib").rglob("*.py")
                 if path.name != "lazy.py")  # its docstring shows the pattern
    assert found == lazies and found >= 20  # every lazy binding has its typed twin
