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
    stack = DevStack(tmp_path, extra_env={"YUTANG_TICK_SECONDS": "3600",
                                          "YUTANG_RATE_KEY_PER_SECOND": "100000"})
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


def _users(stack: DevStack, tag: str, n: int, threads: int = 4) -> list[str]:
    from concurrent.futures import ThreadPoolExecutor

    def one(i: int) -> str:
        status, _, raw = stack.request("POST", "/v1/users", {
            "identities": {"brand_user_id": f"{tag}-{i}"}, "tags": [tag]})
        assert status == 201, raw
        return json.loads(raw)["id"]

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(n)))


def outbox_per_user(stack: DevStack, campaign: str, run_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    cursor = None
    while True:
        path = f"/v1/outbox?campaign_id={campaign}&run_id={run_id}&limit=100" + (f"&cursor={cursor}" if cursor else "")
        status, _, raw = stack.request("GET", path)
        assert status == 200, raw
        page = json.loads(raw)
        for item in page["items"]:
            counts[item["user_id"]] = counts.get(item["user_id"], 0) + 1
        cursor = page["next_cursor"]
        if not cursor:
            return counts


def _stats(stack: DevStack, campaign: str, run_id: str) -> dict:
    return json.loads(stack.request("GET", f"/v1/campaigns/{campaign}/stats?run_id={run_id}")[2])


def run_campaign_through_kills(stack: DevStack, n: int, crash_after_writes: int,
                               tag: str = "kill") -> dict:
    """A campaign to ``n`` tagged users through the outbox channel, killed twice: SIGKILL right
    after ``POST /run`` answered 202, then a restart that SIGKILLs itself right after its
    ``crash_after_writes``-th write to the outbox table (in the middle of the sending). After each kill the data
    directory is loaded alone (no app, no drain) to count the run's outbox messages at the kill.
    Then a normal restart, and a wait for the queues to drain (in-flight messages come back after
    their visibility timeout). Returns the figures."""
    users = _users(stack, tag, n)
    status, _, raw = stack.request("POST", "/v1/campaigns", {
        "name": "kill -9", "audience": {"tags_all": [tag]},
        "message": {"text": "双11 福利 https://example.com/sale"}})
    assert status == 201, raw
    campaign = json.loads(raw)["id"]
    status, _, raw = stack.request("POST", f"/v1/campaigns/{campaign}/run")
    assert status == 202, raw
    run_id = json.loads(raw)["run_id"]
    stack.kill9()
    at_kills = [_outbox_at_kill(stack, campaign, run_id)]
    exit_code = stack.run_until_it_kills_itself(crash_after_writes, match="yutang-outbox")
    at_kills.append(_outbox_at_kill(stack, campaign, run_id))
    stack.restart()
    started = time.monotonic()
    while time.monotonic() - started < 600:
        stats = _stats(stack, campaign, run_id)
        if stats.get("sent") == n and stats.get("pending") == 0:
            break
        time.sleep(1)
    time.sleep(3)  # a duplicate would come from a late redelivery: give it the time to show
    return {"users": users, "per_user": outbox_per_user(stack, campaign, run_id),
            "sent_at_kills": at_kills, "self_kill_exit": exit_code,
            "stats": _stats(stack, campaign, run_id),
            "drain_seconds": round(time.monotonic() - started, 1)}


def _outbox_at_kill(stack: DevStack, campaign: str, run_id: str) -> int:
    inspector = stack.inspect()
    try:
        return len(inspector.items("outbox", f"{campaign}#{run_id}#"))
    finally:
        inspector.close()


CRASH_AFTER = 3  # writes to the outbox table after the restart (batches of up to 25 messages)


def test_a_campaign_killed_mid_send_reaches_every_recipient_exactly_once(tmp_path):
    stack = DevStack(tmp_path)
    try:
        figures = run_campaign_through_kills(stack, 300, crash_after_writes=CRASH_AFTER)
        print({k: v for k, v in figures.items() if k not in ("users", "per_user")})
        assert figures["self_kill_exit"] == -9
        first, second = figures["sent_at_kills"]
        assert first < second < 300  # the second kill fell in the middle of the sending
        assert sorted(figures["per_user"]) == sorted(figures["users"])
        assert set(figures["per_user"].values()) == {1}
        assert figures["stats"]["sent"] == 300 and figures["stats"]["pending"] == 0
    finally:
        stack.stop()


def test_an_old_data_dir_killed_between_its_renames_is_imported_once(tmp_path):
    """The earlier format's kill between its two renames left snapshot.old/ and a complete
    snapshot.tmp/ (and no snapshot/): the newer one is imported, saved in the new format, and the
    old directories removed."""
    data = tmp_path / "data"
    for name, value in (("snapshot.old", "old"), ("snapshot.tmp", "new")):
        (data / name / "s3" / "legacy").mkdir(parents=True)
        (data / name / "s3" / "legacy" / "note.txt").write_text(value)
        (data / name / "dynamodb.json").write_text(json.dumps({"outbox": [
            {"tenant_id": {"S": "legacy"}, "sk": {"S": "x"}, "v": {"S": value}}]}))
    stack = DevStack(tmp_path)
    try:
        assert "restored" in stack.run_log
        assert stack.stop() == 0
        assert not any((data / n).exists() for n in ("snapshot", "snapshot.old", "snapshot.tmp"))
        assert (data / "snapshot.bin").exists()
        inspector = stack.inspect()
        try:
            items = inspector.items("outbox", "x")
            assert [i["v"]["S"] for i in items if i["tenant_id"]["S"] == "legacy"] == ["new"]
            body = inspector.client("s3").get_object(Bucket="yutang-media", Key="legacy/note.txt")
            assert body["Body"].read() == b"new"
        finally:
            inspector.close()
    finally:
        stack.stop()
