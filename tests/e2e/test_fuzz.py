"""Schemathesis against the running dev stack over HTTP, driven by /openapi.json with a bounded
number of examples: no 5xx anywhere (but the documented 502/503 of WeChat or 企业微信 refusing or
failing, st_hooks.no_server_error), and every error in the contract's shape."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import DEV_KEY

pytestmark = pytest.mark.e2e
MAX_EXAMPLES = os.environ.get("YUTANG_FUZZ_EXAMPLES", "5")


def test_schemathesis_finds_no_server_errors(dev_stack, tmp_path):
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.e2e.st_hooks",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    cmd = [sys.executable, "-m", "schemathesis.cli", "run", f"{dev_stack.base}/openapi.json",
           "--checks", "no_server_error,error_shape",
           "--max-examples", MAX_EXAMPLES, "--generation-deterministic",
           "--phases", "examples,coverage,fuzzing",
           "-H", f"Authorization: Bearer {DEV_KEY}", "--request-timeout", "30",
           "--report", "junit", "--report-dir", str(tmp_path)]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1500)
    tail = "\n".join(result.stdout.splitlines()[-60:])
    assert result.returncode == 0, f"schemathesis found problems:\n{tail}\n{result.stderr[-2000:]}"
