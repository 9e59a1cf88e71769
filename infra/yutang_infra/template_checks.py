"""Checks of a synthesized template that need no CDK (infra/verify.py runs them; the unit tests
import them without the infra packages)."""
from __future__ import annotations

import json


def resources(template: dict, kind: str) -> list[dict]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


SECRET_VARS = ("YUTANG_SECRET", "YUTANG_ADMIN_KEY", "YUTANG_DATA_KEY")


def check_secrets(template: dict) -> list[str]:
    """Secrets reach the functions by ARN only (chalicelib/secret_store.py reads them at run time):
    no value, and no dynamic reference CloudFormation would resolve into the function's
    configuration (readable through GetFunctionConfiguration); the role may read each secret."""
    failures = []
    if "resolve:secretsmanager" in json.dumps(template):
        failures.append("a {{resolve:secretsmanager}} reference puts a secret value in the template")
    secrets = {k for k, r in template["Resources"].items() if r["Type"] == "AWS::SecretsManager::Secret"}
    envs = [template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})]
    envs += [r["Properties"].get("Environment", {}).get("Variables", {})
             for r in resources(template, "AWS::Serverless::Function")]
    merged: dict = {}
    for env in envs:
        merged.update(env)
        failures += [f"secret {k} in a function's environment" for k in SECRET_VARS if k in env]
    for name in SECRET_VARS:
        ref = merged.get(f"{name}_ARN")
        if not (isinstance(ref, dict) and ref.get("Ref") in secrets):
            failures.append(f"{name}_ARN is not the ARN of a secret of this stack: {ref!r}")
    readable = {json.dumps(res, sort_keys=True) for r in resources(template, "AWS::IAM::Policy")
                for st in r["Properties"]["PolicyDocument"]["Statement"]
                if "secretsmanager:GetSecretValue" in _list(st["Action"]) for res in _list(st["Resource"])}
    failures += [f"the app role cannot read secret {s}" for s in sorted(secrets)
                 if json.dumps({"Ref": s}, sort_keys=True) not in readable]
    return failures


def _list(value) -> list:
    return value if isinstance(value, list) else [value]
