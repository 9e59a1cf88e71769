"""The audience package's shape: rule modules stay pure, event consumers resolve by name."""
import importlib
import subprocess
import sys

import pytest

from chalicelib import dispatcher

PURE = ["chalicelib.tags", "chalicelib.audience.rules", "chalicelib.audience.stages",
        "chalicelib.audience.criteria", "chalicelib.audience.views", "chalicelib.content.query"]
IO = ["pynamodb", "botocore", "boto3", "chalicelib.db", "chalicelib.aws", "chalicelib.events",
      "chalicelib.audience.models", "chalicelib.audience.store"]


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_nothing_that_does_io(module):
    """GIVEN a fresh interpreter WHEN a pure module is imported THEN no storage or AWS module is."""
    probe = (f"import sys, {module}; "
             f"print(','.join(m for m in {IO!r} if m in sys.modules))")
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           check=True).stdout.strip()
    assert found == "", f"{module} pulls in {found}"


def test_every_event_consumer_resolves():
    """Consumers are named "module:function" (their retry ids, chalicelib/<pkg>/domain.py); a rename must follow there."""
    names = {n for handlers in dispatcher.HANDLERS.values() for n in handlers}
    assert "chalicelib.audience.consumers:tag_scanners" in names
    for name in names:
        module, _, func = name.partition(":")
        assert callable(getattr(importlib.import_module(module), func)), name


def test_audience_and_content_reach_dynamodb_only_through_their_models():
    """No private connection and no key literal ("U#", "CFG", "T#"...) outside the models."""
    import pathlib
    import re

    key_literal = re.compile(r"""["'](?:[A-Z]{1,3}#|CFG["'])""")
    offenders = []
    for package in ("audience", "content"):
        for path in sorted(pathlib.Path("chalicelib", package).glob("*.py")):
            if path.name == "models.py":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if "_get_connection" in line or "utcnow" in line or key_literal.search(line):
                    offenders.append(f"{path}:{n}: {line.strip()}")
    assert offenders == []
