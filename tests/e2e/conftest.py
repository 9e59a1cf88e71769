"""End-to-end fixtures: the real `make dev` stack as a subprocess on a free port."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEV_KEY = "yt_e2etest2_devkey23_" + "s" * 40
ADMIN_KEY = "e2e-admin-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DevStack:
    def __init__(self, tmp: Path, inherit_endpoint: bool = False,
                 extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / "dev.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "YUTANG_"))}
        if inherit_endpoint:
            env["AWS_ENDPOINT_URL"] = os.environ["AWS_ENDPOINT_URL"]
        env.update({"YUTANG_DEV_API_KEY": DEV_KEY, "YUTANG_ADMIN_KEY": ADMIN_KEY,
                    "YUTANG_TICK_SECONDS": "2", "PYTHONUNBUFFERED": "1"})
        env.update(extra_env or {})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "devstack.dev", "--port", str(self.port),
             "--data-dir", str(tmp / "data")], cwd=ROOT, env=env,
            stdout=self.log_path.open("w"), stderr=subprocess.STDOUT)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("make dev exited:\n" + self.log_path.read_text())
            if "Serving on" in self.log_path.read_text():
                return
            time.sleep(0.3)
        raise RuntimeError("make dev did not start:\n" + self.log_path.read_text())

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None,
                key: str | None = DEV_KEY) -> tuple[int, dict, bytes]:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if key:
            all_headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(self.base + path, method=method, headers=all_headers,
                                     data=json.dumps(body).encode() if body is not None else None)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def stop(self) -> int:
        self.proc.send_signal(2)  # Ctrl-C
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory):
    stack = DevStack(tmp_path_factory.mktemp("dev"))
    yield stack
    stack.stop()
