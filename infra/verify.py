"""Check the synthesized stack against the code: ``make synth`` runs it after cfn-lint.

Reads infra/cdk.out/<stage>.template.json and the Lambda bundle next to it, and fails (exit 1) when
a table, index, TTL, queue, DLQ alarm, function setting, schedule, binary media type, gateway
response or throttle is missing or differs from what the models, the Chalice app and
.chalice/config.json say.
"""
from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from yutang_infra import derive  # noqa: E402
from yutang_infra.stack import ERROR_RESPONSES, Options, cfn_name  # noqa: E402

BINARY_TYPES = {"image/png", "image/jpeg"}
ELF_MACHINES = {"aarch64": 183, "x86_64": 62}
LOCAL_ONLY = {"devstack", "tests", "bench", "console", "infra", "scripts"}  # never deployed


def main(out: Path = HERE / "cdk.out") -> int:
    context = json.loads((HERE / "cdk.json").read_text())["context"]
    failures: list[str] = []
    for path in sorted(out.glob("*.template.json")):
        stage = path.name.split(".")[0]
        template = json.loads(path.read_text())
        checks = [*check_tables(template, stage), *check_queues(template, stage),
                  *check_functions(template, stage, context), *check_api(template),
                  *check_public_api(template), *check_secrets(template),
                  *check_bundle(template, out, context)]
        failures += [f"{path.name}: {c}" for c in checks]
        count = {t: sum(r["Type"] == t for r in template["Resources"].values())
                 for t in ("AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::Serverless::Function",
                           "AWS::CloudWatch::Alarm")}
        print(f"verify {path.name}: " + ", ".join(f"{n} {t.split('::')[-1]}" for t, n in count.items()))
    for failure in failures:
        print("FAIL", failure)
    if not list(out.glob("*.template.json")):
        print(f"FAIL no template in {out}")
        return 1
    return 1 if failures else 0


def resources(template: dict, kind: str) -> list[dict]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def check_tables(template: dict, stage: str) -> list[str]:
    prefix = derive.environment(stage).get("YUTANG_TABLE_PREFIX", f"yutang-{stage}-")
    deployed = {r["Properties"]["TableName"]: r["Properties"]
                for r in resources(template, "AWS::DynamoDB::Table")}
    failures = []
    for spec in derive.tables():
        props = deployed.pop(prefix + spec.base_name, None)
        if props is None:
            failures.append(f"table {prefix + spec.base_name} ({spec.model}) missing")
            continue
        if _keys(props["KeySchema"]) != _spec_keys(spec.hash_key, spec.range_key):
            failures.append(f"table {spec.base_name}: keys differ from {spec.model}")
        gsis = {i["IndexName"]: _keys(i["KeySchema"])
                for i in props.get("GlobalSecondaryIndexes", [])}
        if gsis != {i.name: _spec_keys(i.hash_key, i.range_key) for i in spec.global_indexes}:
            failures.append(f"table {spec.base_name}: global indexes differ from {spec.model}")
        ttl = props.get("TimeToLiveSpecification", {}).get("AttributeName")
        if ttl != spec.ttl_attribute:
            failures.append(f"table {spec.base_name}: TTL {ttl!r}, model says {spec.ttl_attribute!r}")
        if props.get("BillingMode") != "PAY_PER_REQUEST":
            failures.append(f"table {spec.base_name}: not on-demand")
        pitr = props.get("PointInTimeRecoverySpecification", {})
        if not pitr.get("PointInTimeRecoveryEnabled"):
            failures.append(f"table {spec.base_name}: no point-in-time recovery")
    failures += [f"table {name} has no model" for name in deployed]
    return failures


def _keys(schema: list[dict]) -> dict:
    return {k["KeyType"]: k["AttributeName"] for k in schema}


def _spec_keys(hash_key: derive.Key, range_key: derive.Key | None) -> dict:
    return {"HASH": hash_key.name, **({"RANGE": range_key.name} if range_key else {})}


def check_queues(template: dict, stage: str) -> list[str]:
    queues = {r["Properties"].get("QueueName"): r["Properties"]
              for r in resources(template, "AWS::SQS::Queue")}
    alarms = [json.dumps(r["Properties"]) for r in resources(template, "AWS::CloudWatch::Alarm")]
    failures = []
    for spec in derive.queues(stage):
        props = queues.get(spec.name)
        if props is None or spec.dlq_name not in queues:
            failures.append(f"queue {spec.name} or its DLQ missing")
            continue
        if props.get("RedrivePolicy", {}).get("maxReceiveCount") != derive.MAX_RECEIVES:
            failures.append(f"queue {spec.name}: maxReceiveCount is not {derive.MAX_RECEIVES}")
        dlq = _logical_id(template, spec.dlq_name)
        if not any(f'"{dlq}"' in a and "ApproximateNumberOfMessagesVisible" in a
                   and "AlarmActions" in a for a in alarms):
            failures.append(f"no alarm on the depth of {spec.dlq_name}")
    return failures


def _logical_id(template: dict, name: str) -> str:
    for logical_id, r in template["Resources"].items():
        if r["Type"] == "AWS::SQS::Queue" and r["Properties"].get("QueueName") == name:
            return logical_id
    return "\0"


def check_functions(template: dict, stage: str, context: dict) -> list[str]:
    from chalice.app import CloudWatchEventConfig

    import app as app_module

    failures = []
    for function in derive.functions():
        props = template["Resources"].get(cfn_name(function), {}).get("Properties")
        if props is None:
            failures.append(f"function {function} missing")
            continue
        want = {"Runtime": f"python{context.get('python', Options.python)}",
                "MemorySize": derive.function_setting(stage, function, "lambda_memory_size"),
                "Timeout": derive.function_setting(stage, function, "lambda_timeout"),
                "Architectures": [context.get("architecture", Options.architecture)]}
        failures += [f"function {function}: {k} is {props.get(k)!r}, expected {v!r}"
                     for k, v in want.items() if props.get(k) != v]
        if "LoggingConfig" not in props:
            failures.append(f"function {function}: no log group with a retention")
    for source in app_module.app.event_sources:
        if isinstance(source, CloudWatchEventConfig):
            continue
        events = template["Resources"][cfn_name(source.name)]["Properties"].get("Events", {})
        expression = getattr(source, "schedule_expression", None)
        if expression is not None:
            wanted = expression if isinstance(expression, str) else expression.to_string()
            if not any(e["Type"] == "Schedule" and e["Properties"]["Schedule"] == wanted
                       for e in events.values()):
                failures.append(f"no schedule rule {wanted} for {source.name}")
    return failures


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


def check_public_api(template: dict) -> list[str]:
    """Every public GET route of the app is on the HTTP API, integrated (payload 2.0) with the
    public handler that adapts its events for Chalice (chalicelib/httpapi.py)."""
    routes = {r["Properties"]["RouteKey"] for r in resources(template, "AWS::ApiGatewayV2::Route")}
    failures = [f"public route {m} {p} not on the HTTP API" for m, p in derive.public_routes()
                if f"{m} {p}" not in routes]
    integrations = resources(template, "AWS::ApiGatewayV2::Integration")
    if not any(i["Properties"].get("PayloadFormatVersion") == "2.0"
               and i["Properties"]["IntegrationUri"] == {"Fn::GetAtt": [cfn_name("public_handler"), "Arn"]}
               for i in integrations):
        failures.append("no payload-2.0 integration with the public handler")
    if not resources(template, "AWS::Lambda::Permission"):
        failures.append("API Gateway may not invoke the public handler")
    return failures


def check_api(template: dict) -> list[str]:
    api = template["Resources"]["RestAPI"]["Properties"]
    body = api["DefinitionBody"]
    failures = []
    missing = BINARY_TYPES - set(body.get("x-amazon-apigateway-binary-media-types", []))
    if missing:
        failures.append(f"binary media types missing: {sorted(missing)}")
    responses = body.get("x-amazon-apigateway-gateway-responses", {})
    for kind in ERROR_RESPONSES:
        template_text = responses.get(kind, {}).get("responseTemplates", {}).get("application/json", "")
        if '{"error": {"code": ' not in template_text:
            failures.append(f"gateway response {kind} not in the error shape")
    settings = api.get("MethodSettings", [{}])[0]
    if not settings.get("ThrottlingRateLimit") or not settings.get("ThrottlingBurstLimit"):
        failures.append("no stage throttling")
    return failures


def check_bundle(template: dict, out: Path, context: dict) -> list[str]:
    """The Lambda bundle carries compiled modules for the target Python and architecture."""
    python = context.get("python", Options.python).replace(".", "")
    machine = {"arm64": "aarch64", "x86_64": "x86_64"}[context.get("architecture", Options.architecture)]
    key = template["Resources"]["APIHandler"]["Properties"]["CodeUri"]["Key"]
    bundle = out / f"asset.{key.split('.')[0]}.zip"
    if not bundle.exists():
        bundle = out / f"asset.{key.split('.')[0]}" / "deployment.zip"
    if not bundle.exists():
        return [f"bundle {bundle.name} not found"]
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        libraries = [n for n in names if n.endswith(".so") or ".so." in n.rsplit("/", 1)[-1]]
        foreign = [n for n in libraries if _elf_machine(zf.read(n)[:20]) != ELF_MACHINES[machine]]
    compiled = [n for n in libraries if ".cpython-" in n]
    wrong = [n for n in compiled if f".cpython-{python}-{machine}-linux-gnu.so" not in n]
    failures = [f"bundle module built for another Python: {n}" for n in wrong[:5]]
    failures += [f"bundle library built for another CPU: {n}" for n in foreign[:5]]
    if not compiled:
        failures.append("bundle has no compiled modules (Pillow missing?)")
    if "app.py" not in names or not any(n.startswith("chalicelib/") for n in names):
        failures.append("bundle lacks app.py or chalicelib/")
    failures += [f"bundle carries the local stack or tests: {n}" for n in names
                 if n.split("/", 1)[0] in LOCAL_ONLY][:5]
    return failures


def _elf_machine(header: bytes) -> int | None:
    return int.from_bytes(header[18:20], "little") if header[:4] == b"\x7fELF" else None


if __name__ == "__main__":
    sys.exit(main())
