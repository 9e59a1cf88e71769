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
from yutang_infra.stack import (  # noqa: E402
    ASSET_CACHE_CONTROL,
    CONSOLE_PATTERN,
    ERROR_RESPONSES,
    INDEX_CACHE_CONTROL,
    Options,
    cfn_name,
)
from yutang_infra.template_checks import (  # noqa: E402
    check_secrets,
    check_viewer_address,
    resources,
)

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
                  *check_viewer_address(template),
                  *check_console(template, out),
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


# CloudFront's managed policies (ids are fixed by AWS)
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def check_console(template: dict, out: Path) -> list[str]:
    """The console's distribution: /console/* from a private bucket through origin access control
    with the deep-link function; each top-level path of the app routed to the API that serves it
    (public prefixes to the HTTP API, the rest to the REST API's stage), uncached, all viewer
    headers/cookies/query strings; no wildcard CORS anywhere; dist deployed with long-cached
    assets and a no-cache index.html that is the only file of its asset."""
    failures = []
    if '"Access-Control-Allow-Origin": "*"' in json.dumps(template) or any(
            r["Properties"].get("ResponseHeadersPolicyConfig", {}).get("CorsConfig")
            for r in resources(template, "AWS::CloudFront::ResponseHeadersPolicy")):
        failures.append("wildcard or CloudFront CORS configured (the console is same-origin)")
    distributions = resources(template, "AWS::CloudFront::Distribution")
    if len(distributions) != 1:
        return failures + [f"expected one CloudFront distribution, found {len(distributions)}"]
    config = distributions[0]["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}
    behaviors = {b["PathPattern"]: b for b in config.get("CacheBehaviors", [])}

    def origin_kind(behavior: dict) -> str:
        origin = origins.get(behavior["TargetOriginId"], {})
        domain = json.dumps(origin.get("DomainName"))
        if "${RestAPI}" in domain and origin.get("OriginPath") == "/api":
            return "rest"
        if "${PublicHttpApi}" in domain and not origin.get("OriginPath"):
            return "public"
        if "S3OriginConfig" in origin and origin.get("OriginAccessControlId"):
            return "s3-oac"
        return f"unknown origin {domain}"

    from yutang_infra import derive as _derive

    for pattern, target in _derive.api_behaviors():
        behavior = behaviors.get(pattern)
        if behavior is None:
            failures.append(f"no CloudFront behaviour for {pattern}")
            continue
        kind = origin_kind(behavior)
        if kind != target:
            failures.append(f"{pattern} goes to {kind}, expected the {target} API")
        if behavior.get("CachePolicyId") != CACHING_DISABLED:
            failures.append(f"{pattern}: API answers must not be cached (CachingDisabled)")
        if behavior.get("OriginRequestPolicyId") != ALL_VIEWER_EXCEPT_HOST:
            failures.append(f"{pattern}: must forward all viewer headers, cookies and query strings")
        if not set(behavior.get("AllowedMethods", [])) >= WRITE_METHODS:
            failures.append(f"{pattern}: must allow every method")
    console = behaviors.get(CONSOLE_PATTERN)
    if console is None:
        return failures + [f"no CloudFront behaviour for {CONSOLE_PATTERN}"]
    if origin_kind(console) != "s3-oac":
        failures.append(f"{CONSOLE_PATTERN} is not served from S3 through origin access control")
    functions = {k: r for k, r in template["Resources"].items()
                 if r["Type"] == "AWS::CloudFront::Function"}
    attached = [f["FunctionARN"] for f in console.get("FunctionAssociations", [])
                if f["EventType"] == "viewer-request"]
    if not any("/console/index.html" in functions.get(a.get("Fn::GetAtt", [""])[0], {}).get(
            "Properties", {}).get("FunctionCode", "") for a in attached):
        failures.append(f"{CONSOLE_PATTERN}: no viewer-request function answering deep links "
                        "with /console/index.html")
    if config.get("DefaultCacheBehavior", {}).get("CachePolicyId") != CACHING_DISABLED:
        failures.append("the default behaviour (API fallback) must not cache")
    for bucket in resources(template, "AWS::S3::Bucket"):
        block = bucket["Properties"].get("PublicAccessBlockConfiguration", {})
        if not all(block.get(k) for k in ("BlockPublicAcls", "BlockPublicPolicy",
                                          "IgnorePublicAcls", "RestrictPublicBuckets")):
            failures.append("a bucket is not private (public access block)")
    deployments = resources(template, "Custom::CDKBucketDeployment")
    controls = {json.dumps(d["Properties"].get("SystemMetadata", {})): d for d in deployments}
    long_cached = [d for k, d in controls.items() if ASSET_CACHE_CONTROL in k]
    no_cache = [d for k, d in controls.items() if f'"{INDEX_CACHE_CONTROL}"' in k]
    if not long_cached or not no_cache:
        failures.append("console dist not deployed as long-cached assets + a no-cache index.html")
    for d in no_cache:
        for key in d["Properties"].get("SourceObjectKeys", []):
            asset = out / f"asset.{str(key).split('.')[0]}"
            names = sorted(p.name for p in asset.rglob("*") if p.is_file()) if asset.is_dir() else []
            if names != ["index.html"]:
                failures.append(f"the no-cache deployment carries {names[:5]}, not only index.html")
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
