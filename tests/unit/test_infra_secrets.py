"""infra/verify.py's secret check (run by make synth): a function environment holding a secret's
value or a dynamic reference CloudFormation would resolve into it fails; ARNs pass."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "infra"))

from yutang_infra import template_checks as verify  # noqa: E402

SECRETS = {"S": "AWS::SecretsManager::Secret", "A": "AWS::SecretsManager::Secret",
           "D": "AWS::SecretsManager::Secret"}


def template(env: dict, readable=("S", "A", "D")) -> dict:
    resources = {k: {"Type": t, "Properties": {}} for k, t in SECRETS.items()}
    resources["Fn"] = {"Type": "AWS::Serverless::Function",
                       "Properties": {"Environment": {"Variables": env}}}
    resources["Policy"] = {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": {"Statement": [
        {"Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
         "Resource": {"Ref": k}} for k in readable]}}}
    return {"Resources": resources}


ARNS = {"YUTANG_SECRET_ARN": {"Ref": "S"}, "YUTANG_ADMIN_KEY_ARN": {"Ref": "A"},
        "YUTANG_DATA_KEY_ARN": {"Ref": "D"}}


def test_arns_only_pass():
    assert verify.check_secrets(template(ARNS)) == []


def test_a_resolved_secret_in_the_environment_fails():
    env = {**ARNS, "YUTANG_SECRET": "{{resolve:secretsmanager:arn:...:SecretString:::}}"}
    failures = verify.check_secrets(template(env))
    assert any("resolve:secretsmanager" in f for f in failures)
    assert any("YUTANG_SECRET in a function" in f for f in failures)


def test_a_missing_arn_or_grant_fails():
    env = {k: v for k, v in ARNS.items() if k != "YUTANG_DATA_KEY_ARN"}
    assert any("YUTANG_DATA_KEY_ARN" in f for f in verify.check_secrets(template(env)))
    assert any("cannot read secret A" in f for f in verify.check_secrets(template(ARNS, ("S", "D"))))
