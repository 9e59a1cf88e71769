"""`make dev` keeps what it acknowledged through kill -9: the local stack journals every mutating
AWS request before it answers, and replays the journal on top of the last snapshot on start."""
from __future__ import annotations

import json
import threading
import time
import urllib.error

import pytest

from tests.e2e.conftest import DevStack

pytestmark = pytest.mark.e2e


class Writer(threading.Thread):
    """Posts contents and users until the server goes away; keeps every 2xx answer."""

    def __init__(self, stack: DevStack, name: str) -> None:
        super().__init__(daemon=True, name=name)
        self.stack, self.tag = stack, name
        self.contents: list[dict] = []
        self.users: list[dict] = []
        self.failed = 0

    def run(self) -> None:
        i = 0
        while True:
            i += 1
            try:
                if i % 2:
                    status, _, raw = self.stack.request("POST", "/v1/contents", {
                        "type": "text", "title": f"{self.tag}-{i}", "body": "x" * 50,
                        "tags": [self.tag, f"n{i % 7}"]})
                    target = self.contents
                else:
                    status, _, raw = self.stack.request("POST", "/v1/users", {
                        "identities": {"brand_user_id": f"{self.tag}-{i}"}, "tags": [self.tag]})
                    target = self.users
            except (urllib.error.URLError, ConnectionError, OSError):
                return  # the server was killed
            if 200 <= status < 300:
                target.append(json.loads(raw))
            else:
                self.failed += 1


def test_every_write_answered_2xx_survives_kill_9(tmp_path):
    stack = DevStack(tmp_path, env={"YUTANG_TICK_SECONDS": "3600"})
    try:
        writers = [Writer(stack, f"w{n}") for n in range(2)]
        for w in writers:
            w.start()
        deadline = time.monotonic() + 60
        while sum(len(w.contents) + len(w.users) for w in writers) < 60:
            assert time.monotonic() < deadline, "writers made no progress"
            time.sleep(0.1)
        stack.kill9()  # in the middle of the stream, no shutdown handler, no last snapshot
        for w in writers:
            w.join(timeout=30)
        assert "items, " not in stack.run_log.split("Serving on")[-1]  # no last save ran
        stack.restart()
        assert "journal records replayed" in stack.run_log
        assert "different answer" not in stack.run_log  # the replay was deterministic
        contents = [c for w in writers for c in w.contents]
        users = [u for w in writers for u in w.users]
        assert contents and users and not any(w.failed for w in writers)
        for content in contents:
            status, _, raw = stack.request("GET", f"/v1/contents/{content['id']}")
            assert status == 200 and json.loads(raw)["title"] == content["title"]
        for user in users:
            status, _, raw = stack.request("GET", f"/v1/users/{user['id']}")
            assert status == 200 and json.loads(raw)["identities"] == user["identities"]
        # the tag index (posting lists written in the same transactions) came back too
        status, _, raw = stack.request("GET", "/v1/contents?tags=w0&limit=100")
        listed = {c["id"] for c in json.loads(raw)["items"]}
        assert {c["id"] for c in writers[0].contents} <= listed or json.loads(raw)["next_cursor"]
        # and the restarted stack keeps working and keeping: a clean stop, a start, still there
        status, _, raw = stack.request("POST", "/v1/contents", {"type": "text", "title": "after", "body": "b",
                                                                "tags": []})
        assert status == 201
        after = json.loads(raw)["id"]
        assert stack.stop() == 0
        stack.restart()
        assert stack.request("GET", f"/v1/contents/{after}")[0] == 200
        assert stack.request("GET", f"/v1/contents/{contents[0]['id']}")[0] == 200
    finally:
        stack.stop()
