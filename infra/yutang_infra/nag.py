"""cdk-nag's AwsSolutions rules over the stack (a CDK policy-validation plugin: ``cdk synth`` fails
on any finding not acknowledged). Every finding is fixed in the stack or acknowledged here, on the
construct it concerns, with its reason — reviewed like code. (The Chalice-generated SAM resources —
REST API, functions — are included as a template and are checked by infra/verify.py instead.)"""
from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

PUBLIC = ("Public by design: people scan QR codes and open links in WeChat without any credential. "
          "Abuse is bounded by the stage throttle and the app's per-IP and per-code rate limits "
          "(chalicelib/ratelimit.py); each route only reveals what its unguessable token names.")
ROTATION = ("Rotated by the operator (docs/security.md): a new YUTANG_SECRET invalidates visitor "
            "cookies, signed links and mini-program tokens, and the data key needs stored secrets "
            "re-sealed, so an unattended schedule would break users; the functions read the value "
            "at run time (chalicelib/secret_store.py) and pick up a rotation within 5 minutes.")


def acknowledgements(stack) -> dict[str, dict[str, str]]:
    """Construct path below the stack -> {rule id: reason}."""
    region, account = stack.region, stack.account
    media = stack.get_logical_id(stack.bucket.node.default_child)
    table = f"arn:<AWS::Partition>:dynamodb:{region}:{account}:table/{stack.table_prefix}*"
    logs = f"arn:<AWS::Partition>:logs:{region}:{account}:log-group:{stack.log_prefix}/*"
    iam5 = "AwsSolutions::AwsSolutions-IAM5"
    acks: dict[str, dict[str, str]] = {
        "Media/Resource": {"AwsSolutions::AwsSolutions-S1": (
            "Every read of a media object goes through the app (/m/ route, logged per request "
            "without personal data); objects are private (BLOCK_ALL), so S3 access logs would "
            "only duplicate the API's logs in a second bucket.")},
        "Alarms/Resource": {"AwsSolutions::AwsSolutions-SNS3": (
            "Only CloudWatch alarms of this account publish here, over HTTPS; a topic policy "
            "denying plain HTTP would replace the default policy that lets those alarms publish.")},
        "AppRole/DefaultPolicy/Resource": {
            f"{iam5}[Resource::{table}]": "Only this stage's tables: the prefix is the stage's.",
            f"{iam5}[Resource::{table}/index/*]": "The indexes of this stage's tables.",
            f"{iam5}[Resource::<{media}.Arn>/*]": "Objects of this stage's media bucket only.",
            f"{iam5}[Resource::{logs}]": "Log streams are created per container at run time.",
            f"{iam5}[Resource::{logs}:*]": "Log streams are created per container at run time.",
        },
    }
    for name in ("Secret", "AdminKey", "DataKey"):
        acks[f"{name}/Resource"] = {"AwsSolutions::AwsSolutions-SMG4": ROTATION}
    for child in stack.node.children:
        if child.node.id.startswith("PublicRoute"):
            acks[child.node.id] = {"AwsSolutions::AwsSolutions-APIG4": PUBLIC}
    return acks


def check(app: cdk.App, stack) -> None:
    for path, rules in acknowledgements(stack).items():
        construct = stack
        for part in path.split("/"):
            construct = construct.node.find_child(part)
        for rule, reason in rules.items():
            cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
