"""infra/verify.py's viewer-address check (run by make synth): every function is told the header
CloudFront puts the viewer's address in, and every API behaviour forwards that header."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "infra"))

from yutang_infra.template_checks import CLIENT_IP_HEADER, check_viewer_address  # noqa: E402

EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AllViewerExceptHostHeader
ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"  # AllViewer: no CloudFront-* headers


def template(env: dict | None = None, api_policy=EXCEPT_HOST, extra: dict | None = None) -> dict:
    env = {"YUTANG_CLIENT_IP_HEADER": CLIENT_IP_HEADER} if env is None else env
    return {"Globals": {"Function": {"Environment": {"Variables": env}}}, "Resources": {
        "Api": {"Type": "AWS::Serverless::Function", "Properties": {}},
        "Worker": {"Type": "AWS::Serverless::Function",
                   "Properties": {"Environment": {"Variables": {"OTHER": "1"}}}},
        "CdkHelper": {"Type": "AWS::Lambda::Function", "Properties": {}},  # not the app's
        **(extra or {}),
        "Console": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {
            "Origins": [{"Id": "rest", "DomainName": "x"},
                        {"Id": "bucket", "S3OriginConfig": {}, "DomainName": "b"}],
            "DefaultCacheBehavior": {"TargetOriginId": "rest", "OriginRequestPolicyId": api_policy},
            "CacheBehaviors": [
                {"PathPattern": "/v1/*", "TargetOriginId": "rest", "OriginRequestPolicyId": api_policy},
                {"PathPattern": "/console/*", "TargetOriginId": "bucket"}]}}}}}


def test_the_header_set_and_forwarded_passes():
    assert CLIENT_IP_HEADER == "CloudFront-Viewer-Address"
    assert check_viewer_address(template()) == []


def test_a_function_not_told_the_header_fails():
    failures = check_viewer_address(template(env={}))
    assert len(failures) == 2 and all("YUTANG_CLIENT_IP_HEADER" in f for f in failures)
    assert check_viewer_address(template(env={"YUTANG_CLIENT_IP_HEADER": "X-Forwarded-For"}))


def test_an_api_behaviour_that_drops_the_header_fails():
    failures = check_viewer_address(template(api_policy=ALL_VIEWER))
    assert sorted(f.split(":")[0] for f in failures) == ["/v1/*", "default behaviour"]
    assert check_viewer_address(template(api_policy=None))


def test_a_custom_policy_naming_the_header_passes():
    custom = {"Policy": {"Type": "AWS::CloudFront::OriginRequestPolicy", "Properties": {
        "OriginRequestPolicyConfig": {"HeadersConfig": {
            "HeaderBehavior": "allViewerAndWhitelistCloudFront",
            "Headers": ["cloudfront-viewer-address"]}}}}}
    assert check_viewer_address(template(api_policy={"Ref": "Policy"}, extra=custom)) == []
    custom["Policy"]["Properties"]["OriginRequestPolicyConfig"]["HeadersConfig"]["Headers"] = []
    assert check_viewer_address(template(api_policy={"Ref": "Policy"}, extra=custom))
