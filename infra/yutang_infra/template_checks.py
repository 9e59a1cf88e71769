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


CLIENT_IP_HEADER = "CloudFront-Viewer-Address"  # "ip:port", set by CloudFront, parsed by web.py
# Origin request policies that forward CloudFront-Viewer-Address (besides a custom one naming it):
# AllViewerExceptHostHeader and AllViewerAndCloudFrontHeaders-2022-06 include the CloudFront-*
# headers; AllViewer and the legacy settings do not.
VIEWER_ADDRESS_POLICIES = {"b689b0a8-53d0-40ab-baf2-68738e2966ac": "AllViewerExceptHostHeader",
                           "33f36d7e-f396-46d9-90e0-52428a34d9dc": "AllViewerAndCloudFrontHeaders"}


def check_viewer_address(template: dict) -> list[str]:
    """Behind CloudFront the API sees the viewer's address: every function is told which header
    carries it (YUTANG_CLIENT_IP_HEADER) and every behaviour of the distribution that goes to an
    API (not to the console's bucket) forwards that header to its origin."""
    failures = []
    globals_env = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get(
        "Variables", {})
    for logical_id, r in template["Resources"].items():
        if r["Type"] != "AWS::Serverless::Function":  # the app's (Chalice); not CDK's helpers
            continue
        env = {**globals_env, **r["Properties"].get("Environment", {}).get("Variables", {})}
        if env.get("YUTANG_CLIENT_IP_HEADER") != CLIENT_IP_HEADER:
            failures.append(f"function {logical_id}: YUTANG_CLIENT_IP_HEADER is "
                            f"{env.get('YUTANG_CLIENT_IP_HEADER')!r}, expected {CLIENT_IP_HEADER!r}")
    custom = {k for k, r in template["Resources"].items()
              if r["Type"] == "AWS::CloudFront::OriginRequestPolicy"
              and CLIENT_IP_HEADER.lower() in [h.lower() for h in r["Properties"].get(
                  "OriginRequestPolicyConfig", {}).get("HeadersConfig", {}).get("Headers", [])]}
    for distribution in resources(template, "AWS::CloudFront::Distribution"):
        config = distribution["Properties"]["DistributionConfig"]
        s3 = {o["Id"] for o in config.get("Origins", []) if "S3OriginConfig" in o}
        behaviors = [config.get("DefaultCacheBehavior", {}), *config.get("CacheBehaviors", [])]
        for behavior in behaviors:
            if behavior.get("TargetOriginId") in s3:
                continue
            policy = behavior.get("OriginRequestPolicyId")
            forwards = policy.get("Ref") in custom if isinstance(policy, dict) \
                else policy in VIEWER_ADDRESS_POLICIES
            if not forwards:
                failures.append(f"{behavior.get('PathPattern', 'default behaviour')}: the origin "
                                f"request policy {policy!r} does not forward {CLIENT_IP_HEADER}")
    return failures
