"""Provision the local stack from the code: tables from the PynamoDB models, the bucket, the
queues with their dead-letter queues (same names and redrive as infra/)."""
from __future__ import annotations

import json

from chalicelib import aws, db
from chalicelib.domains import import_models
from chalicelib.settings import get_settings

MAX_RECEIVES = 5


def queue_names() -> list[str]:
    """The events queue plus every queue an ``@app.on_sqs_message`` handler listens to."""
    from chalice.app import SQSEventConfig

    import app as app_module

    names = [get_settings().events_queue]
    for source in app_module.app.event_sources:
        if isinstance(source, SQSEventConfig) and source.queue not in names:
            names.append(source.queue)
    return names


def provision() -> dict:
    cfg = get_settings()
    import_models()
    tables = db.create_tables()
    s3 = aws.client("s3")
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if cfg.bucket not in existing:
        s3.create_bucket(Bucket=cfg.bucket)
    sqs = aws.client("sqs")
    queues = {}
    for name in queue_names():
        dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        url = sqs.create_queue(QueueName=name, Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                         "maxReceiveCount": str(MAX_RECEIVES)})})["QueueUrl"]
        queues[name] = url
    return {"tables": tables, "bucket": cfg.bucket, "queues": queues}
