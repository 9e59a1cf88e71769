"""The embedded moto server keeps what it acknowledged through kill -9: DynamoDB items, S3 objects,
SQS messages with their in-flight state (receive counts, visibility, receipt handles, dead-letter
redrive), whether they come from the snapshot or from the journal replayed on top of it."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]


class Durable:
    """``python -m devstack.moto_server`` on a data directory, killed with SIGKILL."""

    def __init__(self, data_dir: Path, snapshot_every: float = 0) -> None:
        env = {**os.environ, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
               "AWS_DEFAULT_REGION": "us-east-1"}
        env.pop("AWS_ENDPOINT_URL", None)
        self.proc = subprocess.Popen([sys.executable, "-m", "devstack.moto_server", "--data-dir",
                                      str(data_dir), "--snapshot-every", str(snapshot_every)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        started = json.loads(self.proc.stdout.readline())
        self.url, self.restored = started["url"], started["restored"]

    def client(self, service: str):
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="local", aws_secret_access_key="local",
                            config=Config(s3={"addressing_style": "path"},
                                          retries={"max_attempts": 1}))

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


def _create(ddb, sqs, s3) -> tuple[str, str]:
    ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    s3.create_bucket(Bucket="bucket-one")
    dlq = sqs.create_queue(QueueName="q-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    url = sqs.create_queue(QueueName="q", Attributes={
        "VisibilityTimeout": "30",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "2"})})[
        "QueueUrl"]
    return url, dlq


def _scenario(stack: Durable) -> dict:
    """Writes of every kind; returns what the client was told."""
    ddb, sqs, s3 = stack.client("dynamodb"), stack.client("sqs"), stack.client("s3")
    url, dlq = _create(ddb, sqs, s3)
    for i in range(20):
        ddb.put_item(TableName="t", Item={"pk": {"S": f"k{i}"}, "n": {"N": str(i)}})
    ddb.transact_write_items(TransactItems=[
        {"Update": {"TableName": "t", "Key": {"pk": {"S": "k1"}}, "UpdateExpression": "SET n = :v",
                    "ExpressionAttributeValues": {":v": {"N": "100"}}}},
        {"Delete": {"TableName": "t", "Key": {"pk": {"S": "k2"}}}}])
    s3.put_object(Bucket="bucket-one", Key="a/b.png", Body=b"\x89PNG" + bytes(range(256)),
                  ContentType="image/png")
    s3.put_object(Bucket="bucket-one", Key="gone", Body=b"x")
    s3.delete_object(Bucket="bucket-one", Key="gone")
    sent = [sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")["MessageId"] for i in range(4)]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=2,
                              AttributeNames=["All"])["Messages"]
    done, in_flight = got[0], got[1]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=done["ReceiptHandle"])
    # one message received twice with no visibility: the next receive moves it to the DLQ
    redriven = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=0)[
        "Messages"]
    return {"url": url, "dlq": dlq, "sent": sent, "done": done["MessageId"],
            "in_flight": in_flight, "redriven": [m["MessageId"] for m in redriven]}


def _check(stack: Durable, told: dict) -> None:
    ddb, sqs, s3 = stack.client("dynamodb"), stack.client("sqs"), stack.client("s3")
    items = {i["pk"]["S"]: i["n"]["N"] for i in ddb.scan(TableName="t")["Items"]}
    assert len(items) == 19 and items["k1"] == "100" and "k2" not in items and items["k19"] == "19"
    body = s3.get_object(Bucket="bucket-one", Key="a/b.png")
    assert body["Body"].read() == b"\x89PNG" + bytes(range(256))
    assert body["ContentType"] == "image/png"
    assert "Contents" not in s3.list_objects_v2(Bucket="bucket-one", Prefix="gone")
    # the in-flight message is still invisible; its receipt handle from before the kill still works
    in_flight = told["in_flight"]
    sqs.change_message_visibility(QueueUrl=told["url"], ReceiptHandle=in_flight["ReceiptHandle"],
                                  VisibilityTimeout=0)
    seen: dict[str, dict] = {}
    for _ in range(6):
        for m in sqs.receive_message(QueueUrl=told["url"], MaxNumberOfMessages=10,
                                     VisibilityTimeout=30, AttributeNames=["All"]).get(
                                         "Messages", []):
            seen[m["MessageId"]] = m
    assert told["done"] not in seen  # deleted before the kill
    assert in_flight["MessageId"] in seen
    assert seen[in_flight["MessageId"]]["Attributes"]["ApproximateReceiveCount"] == "2"
    assert set(seen) | {told["done"]} | _dlq_ids(sqs, told["dlq"]) == set(told["sent"])


def _dlq_ids(sqs, dlq: str) -> set[str]:
    return {m["MessageId"] for m in sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get(
        "Messages", [])}


def test_everything_survives_kill_9_from_the_journal_alone(data_dir):
    first = Durable(data_dir)
    told = _scenario(first)
    first.kill()
    assert not (data_dir / "snapshot.bin").exists()  # nothing was snapshotted: journal only
    second = Durable(data_dir)
    try:
        assert second.restored["replayed"] > 30 and second.restored["divergences"] == 0
        _check(second, told)
    finally:
        second.kill()


def test_a_second_kill_after_the_restart_snapshot_still_has_everything(data_dir):
    first = Durable(data_dir)
    told = _scenario(first)
    first.kill()
    Durable(data_dir).kill()  # replays, snapshots, drops the journal it covered
    assert (data_dir / "snapshot.bin").exists()
    third = Durable(data_dir)
    try:
        assert third.restored["snapshot"] and third.restored["replayed"] == 0
        _check(third, told)
    finally:
        third.kill()


def test_in_flight_messages_come_back_after_their_visibility_timeout(data_dir):
    """The visibility deadline survives the kill: the message is not received again before it
    (a lower bound, whatever the machine's load), and then comes back with its receive count."""
    visibility = 12
    first = Durable(data_dir)
    sqs = first.client("sqs")
    url = sqs.create_queue(QueueName="w")["QueueUrl"]
    sent = sqs.send_message(QueueUrl=url, MessageBody="hello")["MessageId"]
    received_at = time.time()
    got = sqs.receive_message(QueueUrl=url, VisibilityTimeout=visibility)["Messages"]
    assert got[0]["MessageId"] == sent
    first.kill()
    second = Durable(data_dir)
    try:
        sqs = second.client("sqs")
        while not (got := sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1,
                                              AttributeNames=["All"]).get("Messages")):
            assert time.time() < received_at + visibility + 60
        assert time.time() >= received_at + visibility
        assert got[0]["MessageId"] == sent
        assert got[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    finally:
        second.kill()


def test_a_long_poll_does_not_block_other_writes(data_dir):
    stack = Durable(data_dir)
    try:
        sqs, ddb = stack.client("sqs"), stack.client("dynamodb")
        url = sqs.create_queue(QueueName="idle")["QueueUrl"]
        ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        import threading

        got: list = []
        polled = threading.Thread(target=lambda: got.append(sqs.receive_message(
            QueueUrl=url, WaitTimeSeconds=20)))
        polled.start()
        time.sleep(0.3)
        ddb.put_item(TableName="t", Item={"pk": {"S": "x"}})  # answered while the poll waits
        assert polled.is_alive()
        stack.client("sqs").send_message(QueueUrl=url, MessageBody="wake")  # ends the poll early
        polled.join(timeout=15)
        assert not polled.is_alive() and got[0]["Messages"][0]["Body"] == "wake"
    finally:
        stack.kill()


def test_snapshots_taken_during_concurrent_writes_are_consistent_cuts(data_dir):
    """Writers to all three services while the server snapshots every 50 ms (each snapshot drops
    the journal it covers), then kill -9: every acknowledged write is there exactly once."""
    import threading

    stack = Durable(data_dir, snapshot_every=0.05)
    ddb, sqs, s3 = stack.client("dynamodb"), stack.client("sqs"), stack.client("s3")
    _create(ddb, sqs, s3)
    url = sqs.create_queue(QueueName="plain")["QueueUrl"]
    acked: dict[str, list] = {"items": [], "objects": [], "messages": []}
    stop = threading.Event()

    def write(kind: str, n: int) -> None:
        client = stack.client({"items": "dynamodb", "objects": "s3", "messages": "sqs"}[kind])
        i = 0
        while not stop.is_set():
            i += 1
            name = f"{kind}-{n}-{i}"
            try:
                if kind == "items":
                    client.transact_write_items(TransactItems=[
                        {"Put": {"TableName": "t", "Item": {"pk": {"S": name}},
                                 "ConditionExpression": "attribute_not_exists(pk)"}},
                        {"Update": {"TableName": "t", "Key": {"pk": {"S": f"count-{n}"}},
                                    "UpdateExpression": "ADD n :one",
                                    "ExpressionAttributeValues": {":one": {"N": "1"}}}}])
                elif kind == "objects":
                    client.put_object(Bucket="bucket-one", Key=name, Body=name.encode())
                else:
                    client.send_message(QueueUrl=url, MessageBody=name)
            except Exception:  # noqa: BLE001 - killed mid-request: not acknowledged
                return
            acked[kind].append(name)

    threads = [threading.Thread(target=write, args=(kind, n), daemon=True)
               for kind in acked for n in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while min(len(v) for v in acked.values()) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(list((data_dir).glob("snapshot.bin"))) == 1
    stack.kill()
    stop.set()
    for t in threads:
        t.join(timeout=10)
    second = Durable(data_dir)
    try:
        assert second.restored["divergences"] == 0
        ddb, sqs, s3 = second.client("dynamodb"), second.client("sqs"), second.client("s3")
        items = {}
        for page in ddb.get_paginator("scan").paginate(TableName="t"):
            items.update({i["pk"]["S"]: i for i in page["Items"]})
        assert set(acked["items"]) <= set(items)
        for n in range(2):  # each counter moved with its put, in the same transaction
            puts = sum(1 for k in items if k.startswith(f"items-{n}-"))
            assert int(items[f"count-{n}"]["n"]["N"]) == puts
        keys = {o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket="bucket-one") for o in page.get("Contents", [])}
        assert set(acked["objects"]) <= keys
        bodies: list[str] = []
        while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            bodies += [m["Body"] for m in got]
        assert set(acked["messages"]) <= set(bodies) and len(bodies) == len(set(bodies))
    finally:
        second.kill()


def test_a_move_to_the_dead_letter_queue_by_an_empty_receive_is_kept(data_dir):
    first = Durable(data_dir)
    sqs = first.client("sqs")
    dlq = sqs.create_queue(QueueName="d-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    url = sqs.create_queue(QueueName="d", Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": arn, "maxReceiveCount": "1"})})["QueueUrl"]
    sent = sqs.send_message(QueueUrl=url, MessageBody="poison")["MessageId"]
    assert sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)  # this receive moves it, empty
    first.kill()
    second = Durable(data_dir)
    try:
        sqs = second.client("sqs")
        got = sqs.receive_message(QueueUrl=dlq).get("Messages", [])
        assert [m["MessageId"] for m in got] == [sent]
    finally:
        second.kill()
