"""CDK entry point: one Yutang stage per run (``-c stage=prod``, the default).

Offline (``make synth``) it targets account 123456789012 in us-east-1 unless told otherwise; with
AWS credentials the CDK CLI supplies the real account and region (or pass ``-c account=``,
``-c region=``).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import aws_cdk as cdk

sys.path.insert(0, str(Path(__file__).resolve().parent))

from yutang_infra.nag import check  # noqa: E402
from yutang_infra.stack import Options, YutangStack  # noqa: E402

app = cdk.App()
options = Options.from_context(app.node)
account = app.node.try_get_context("account") or os.environ.get("CDK_DEFAULT_ACCOUNT") or "123456789012"
region = app.node.try_get_context("region") or os.environ.get("CDK_DEFAULT_REGION") or "us-east-1"
# chalice package builds a botocore client (for the partition); it must never look for an instance role.
os.environ.setdefault("AWS_DEFAULT_REGION", region)
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

stack = YutangStack(app, options, stack_name=f"yutang-{options.stage}",
                    env=cdk.Environment(account=account, region=region),
                    description=f"Yutang (鱼塘) {options.stage}: private-domain traffic backend")
check(app, stack)  # cdk-nag AwsSolutions: an unsuppressed error fails the synth
app.synth()
