"""Keep the local stack's data between runs: a snapshot of every table and object in a data
directory, written on shutdown and periodically, loaded on start. (moto keeps state in memory.)"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from chalicelib import aws, db
from chalicelib.settings import get_settings


def snapshot(data_dir: Path) -> dict:
    tmp = data_dir / "snapshot.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "s3").mkdir(parents=True)
    ddb = aws.client("dynamodb")
    counts = {"items": 0, "objects": 0}
    tables = {}
    for model in db.all_models():
        model._get_connection()
        name = model.Meta.table_name
        items = []
        for page in ddb.get_paginator("scan").paginate(TableName=name):
            items.extend(page["Items"])
        tables[model.Meta._yutang_base_name] = items
        counts["items"] += len(items)
    (tmp / "dynamodb.json").write_text(json.dumps(tables))
    s3 = aws.client("s3")
    bucket = get_settings().bucket
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            target = tmp / "s3" / obj["Key"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
            counts["objects"] += 1
    final = data_dir / "snapshot"
    old = data_dir / "snapshot.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return counts


def restore(data_dir: Path) -> dict:
    source = data_dir / "snapshot"
    counts = {"items": 0, "objects": 0}
    if not (source / "dynamodb.json").exists():
        return counts
    tables = json.loads((source / "dynamodb.json").read_text())
    ddb = aws.client("dynamodb")
    prefix = get_settings().table_prefix
    for base, items in tables.items():
        for i in range(0, len(items), 25):
            ddb.batch_write_item(RequestItems={prefix + base: [
                {"PutRequest": {"Item": item}} for item in items[i:i + 25]]})
        counts["items"] += len(items)
    s3 = aws.client("s3")
    bucket = get_settings().bucket
    root = source / "s3"
    for dirpath, _, files in os.walk(root):
        for fname in files:
            path = Path(dirpath) / fname
            s3.put_object(Bucket=bucket, Key=str(path.relative_to(root)), Body=path.read_bytes())
            counts["objects"] += 1
    return counts
