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
        self.tmp = tmp
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / "dev.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "YUTANG_"))}
        if inherit_endpoint:
            self.env["AWS_ENDPOINT_URL"] = os.environ["AWS_ENDPOINT_URL"]
        self.env.update({"YUTANG_DEV_API_KEY": DEV_KEY, "YUTANG_ADMIN_KEY": ADMIN_KEY,
                         "YUTANG_TICK_SECONDS": "2", "PYTHONUNBUFFERED": "1"})
        self.env.update(extra_env or {})
        self._spawn()

    def _spawn(self, env: dict | None = None, wait: bool = True) -> None:
        with self.log_path.open("a") as log:
            log.write("\n--- start ---\n")
        self._log_from = self.log_path.stat().st_size
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "devstack.dev", "--port", str(self.port),
             "--data-dir", str(self.tmp / "data")], cwd=ROOT, env=env or self.env,
            stdout=self.log_path.open("a"), stderr=subprocess.STDOUT)
        if wait:
            self._wait()

    def run_until_it_kills_itself(self, after_writes: int, match: str = "",
                                  timeout: float = 300) -> int:
        """Start on the same data directory with ``YUTANG_DEV_CRASH_AFTER_WRITES`` (and
        ``YUTANG_DEV_CRASH_MATCH``): the stack SIGKILLs itself right after that many journaled AWS
        writes (counting only those whose request mentions ``match``): a kill -9 at an exact
        point, e.g. in the middle of a campaign's sending. Returns the exit code (-9)."""
        self._spawn({**self.env, "YUTANG_DEV_CRASH_AFTER_WRITES": str(after_writes),
                     "YUTANG_DEV_CRASH_MATCH": match}, wait=False)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise

    def inspect(self) -> "Inspector":
        """The data directory as it is now, loaded by the durable moto server alone (no app, no
        drain, nothing moves): a boto3 client factory; call ``close()`` when done."""
        return Inspector(self.tmp / "data")

    def kill9(self) -> None:
        """SIGKILL: no shutdown handler, no last snapshot (what a crash or `kill -9` does)."""
        self.proc.kill()
        self.proc.wait(timeout=30)

    def restart(self) -> None:
        """Start again on the same data directory and port (after :meth:`kill9` or :meth:`stop`)."""
        self._spawn()

    @property
    def run_log(self) -> str:
        """The log of the current run only."""
        with self.log_path.open() as f:
            f.seek(self._log_from)
            return f.read()

    def _wait(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("make dev exited:\n" + self.log_path.read_text())
            with self.log_path.open() as f:
                f.seek(self._log_from)
                started = "Serving on" in f.read()
            if started:
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
            return self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


class Inspector:
    def __init__(self, data_dir: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "YUTANG_"))}
        self.proc = subprocess.Popen([sys.executable, "-m", "devstack.moto_server", "--data-dir",
                                      str(data_dir)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     text=True)
        self.url = json.loads(self.proc.stdout.readline())["url"]

    def client(self, service: str):
        import boto3

        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="local", aws_secret_access_key="local")

    def items(self, table: str, prefix: str) -> list[dict]:
        """Items of ``yutang-<table>`` whose sort key starts with ``prefix`` (a scan: a test)."""
        found = []
        for page in self.client("dynamodb").get_paginator("scan").paginate(
                TableName=f"yutang-{table}"):
            found += [i for i in page["Items"] if i.get("sk", {}).get("S", "").startswith(prefix)]
        return found

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory):
    stack = DevStack(tmp_path_factory.mktemp("dev"))
    yield stack
    stack.stop()
