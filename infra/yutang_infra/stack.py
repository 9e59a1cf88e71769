"""The Yutang stack: tables, bucket, queues, alarms, secrets and the Chalice app, for one stage.

Tables and queues come from the code (``derive``); the Lambda functions, the REST API and the
schedule rule come from ``chalice package`` through ``chalice.cdk`` (a SAM template included here),
then hardened: Python 3.12 on arm64, a least-privilege role, stage throttling, API Gateway's own
errors in the contract's ``{"error": {"code", "message"}}`` shape, and the SQS event sources bound
to the queues defined here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import derive
from .console_routing import CONSOLE_ROUTING_JS
from .template_checks import CLIENT_IP_HEADER

DYNAMODB_ACTIONS = [  # no Scan: DESIGN.md keeps it off every path; grant it here if a job needs it
    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem",
    "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable",
]
SQS_ACTIONS = ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ReceiveMessage",
               "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]
# Objects whose tag says they are a render cache (QR images, posters) expire; they are re-rendered
# on demand. Keys are t/<tenant>/<folder>/..., so a prefix rule cannot select the folders.
CACHE_TAG = ("yutang-cache", "render")

# The public API's access log: no query string, no headers, no body (they may carry personal data).
ACCESS_LOG_FORMAT = ('{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
                     '"routeKey":"$context.routeKey","status":"$context.status",'
                     '"latencyMs":"$context.responseLatency","time":"$context.requestTime"}')

BROWSER_IMAGE_ACCEPT = ("image/avif", "image/webp", "image/apng", "image/jxl", "image/heic", "image/*")

ERROR_RESPONSES = {  # API Gateway's own answers (no route, throttled...) in the contract's shape
    "MISSING_AUTHENTICATION_TOKEN": (404, "not-found", '"No route matches this method and path."'),
    "THROTTLED": (429, "rate-limited", "$context.error.messageString"),
    "QUOTA_EXCEEDED": (429, "rate-limited", "$context.error.messageString"),
    "REQUEST_TOO_LARGE": (413, "payload-too-large", "$context.error.messageString"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "unsupported-media-type", "$context.error.messageString"),
    "WAF_FILTERED": (403, "forbidden", "$context.error.messageString"),
    "INTEGRATION_TIMEOUT": (504, "timeout", '"The request took too long."'),
    "DEFAULT_4XX": (None, "bad-request", "$context.error.messageString"),
    "DEFAULT_5XX": (None, "unavailable", '"The service is unavailable; try again."'),
}

CONSOLE_PATTERN = "/console/*"
ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"
INDEX_CACHE_CONTROL = "no-cache"


@dataclass(frozen=True)
class Options:
    """Deploy-time choices, from CDK context (``-c key=value`` or infra/cdk.json)."""

    stage: str = "prod"
    python: str = "3.12"
    architecture: str = "arm64"
    endpoint_type: str = "REGIONAL"
    throttle_rate: int = 500
    throttle_burst: int = 1000
    log_retention_days: int = 30
    cache_days: int = 30
    alarm_email: str | None = None
    domain_name: str | None = None
    certificate_arn: str | None = None
    hosted_zone_id: str | None = None
    public_domain_name: str | None = None  # scans and media (HTTP API); same certificate/zone options
    console_domain_name: str | None = None  # the console + API on one CloudFront domain
    console_certificate_arn: str | None = None  # for console_domain_name: an ACM certificate in us-east-1

    @classmethod
    def from_context(cls, node) -> Options:
        def get(key: str, default):
            value = node.try_get_context(key)
            if value in (None, ""):
                return default
            return int(value) if isinstance(default, int) else str(value)

        d = cls()
        return cls(**{f: get(f, getattr(d, f)) for f in cls.__dataclass_fields__})


def camel(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[^A-Za-z0-9]+", name) if p)


class YutangStack(cdk.Stack):
    def __init__(self, scope: Construct, options: Options, **kwargs) -> None:
        # chalice.cdk takes the Chalice stage from this construct's id, so the id is the stage.
        super().__init__(scope, options.stage, **kwargs)
        self.options = options
        env = derive.environment(options.stage)
        self.table_prefix = env.get("YUTANG_TABLE_PREFIX", f"yutang-{options.stage}-")
        self.tables = [self._table(spec) for spec in derive.tables()]
        self.bucket = self._bucket()
        self.alarms = self._alarm_topic()
        self.queues = {spec.name: self._queue(spec) for spec in derive.queues(options.stage)}
        self.log_prefix = f"/aws/lambda/{self.stack_name}"
        self.role = self._role()
        public_url = self._public_url()
        self.api = self._chalice(env, public_url)
        self._harden_api()
        self.public_api = self._public_http_api()
        self._bind_queues()
        self._log_groups()
        self.console = self._console()
        self._outputs()

    # -- storage ---------------------------------------------------------------------------------
    def _table(self, spec: derive.TableSpec) -> dynamodb.Table:
        table = dynamodb.Table(
            self, f"Table{camel(spec.base_name)}",
            table_name=self.table_prefix + spec.base_name,
            partition_key=_attr(spec.hash_key),
            sort_key=_attr(spec.range_key) if spec.range_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            time_to_live_attribute=spec.ttl_attribute,
            deletion_protection=self.options.stage == "prod",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        for index in spec.global_indexes:
            table.add_global_secondary_index(
                index_name=index.name, partition_key=_attr(index.hash_key),
                sort_key=_attr(index.range_key) if index.range_key else None,
                **_projection(index))
        for index in spec.local_indexes:
            table.add_local_secondary_index(
                index_name=index.name, sort_key=_attr(index.range_key), **_projection(index))
        cdk.Tags.of(table).add("yutang:model", spec.model)
        return table

    def _bucket(self) -> s3.Bucket:
        return s3.Bucket(
            self, "Media",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-render-cache", tag_filters=dict([CACHE_TAG]),
                                 expiration=cdk.Duration.days(self.options.cache_days)),
                s3.LifecycleRule(id="abort-incomplete-uploads",
                                 abort_incomplete_multipart_upload_after=cdk.Duration.days(1)),
            ],
        )

    # -- queues and alarms -----------------------------------------------------------------------
    def _alarm_topic(self) -> sns.Topic:
        # The default topic policy stays: it is what lets CloudWatch alarms of this account publish.
        topic = sns.Topic(self, "Alarms", display_name=f"Yutang {self.options.stage} alarms")
        if self.options.alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(self.options.alarm_email))
        return topic

    def _queue(self, spec: derive.QueueSpec) -> sqs.Queue:
        name = camel(spec.name)
        dlq = sqs.Queue(self, f"Dlq{name}", queue_name=spec.dlq_name,
                        retention_period=cdk.Duration.days(14), enforce_ssl=True,
                        encryption=sqs.QueueEncryption.SQS_MANAGED)
        queue = sqs.Queue(self, f"Queue{name}", queue_name=spec.name,
                          visibility_timeout=cdk.Duration.seconds(spec.visibility_timeout),
                          retention_period=cdk.Duration.days(4), enforce_ssl=True,
                          encryption=sqs.QueueEncryption.SQS_MANAGED,
                          dead_letter_queue=sqs.DeadLetterQueue(
                              max_receive_count=derive.MAX_RECEIVES, queue=dlq))
        alarm = cloudwatch.Alarm(
            self, f"DlqDepth{name}",
            alarm_description=f"Messages in {spec.dlq_name}: {spec.consumer or 'a consumer'} failed "
                              f"{derive.MAX_RECEIVES} times on them. Inspect, fix, then redrive.",
            metric=dlq.metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(5), statistic="Maximum"),
            threshold=0, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.alarms))
        return queue

    # -- the app ---------------------------------------------------------------------------------
    def _role(self) -> iam.Role:
        role = iam.Role(self, "AppRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description="Yutang Lambda functions: this stage's tables, bucket, queues")
        logs = self.format_arn(service="logs", resource="log-group",
                               resource_name=f"{self.log_prefix}/*",
                               arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)
        role.add_to_policy(iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[logs, f"{logs}:*"]))
        table = self.format_arn(service="dynamodb", resource="table",
                                resource_name=f"{self.table_prefix}*")
        role.add_to_policy(iam.PolicyStatement(actions=DYNAMODB_ACTIONS,
                                               resources=[table, f"{table}/index/*"]))
        role.add_to_policy(iam.PolicyStatement(
            actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging"],
            resources=[self.bucket.arn_for_objects("*")]))
        role.add_to_policy(iam.PolicyStatement(  # so a missing key reads as 404, not 403
            actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn]))
        role.add_to_policy(iam.PolicyStatement(
            actions=SQS_ACTIONS, resources=[q.queue_arn for q in self.queues.values()]))
        return role

    def _secret(self, name: str, description: str) -> secretsmanager.Secret:
        """A generated secret. The functions get its ARN only (``YUTANG_<NAME>_ARN``) and read the
        value at run time (chalicelib/secret_store.py, cached per container): it is never in the
        template nor in the functions' configuration (GetFunctionConfiguration)."""
        secret = secretsmanager.Secret(
            self, camel(name), secret_name=f"yutang/{self.options.stage}/{name}",
            description=description,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=48, exclude_punctuation=True))
        secret.grant_read(self.role)
        return secret

    def _public_url(self) -> cdk.CfnParameter:
        host = self.options.public_domain_name
        default = f"https://{host}" if host else None
        return cdk.CfnParameter(
            self, "PublicUrl", type="String", default=default, allowed_pattern=r"^https://\S+$",
            description="The public https:// base of the API (custom domain, or the ApiUrl output "
                        "without its trailing slash): QR codes and links point there.")

    def _chalice(self, env: dict[str, str], public_url: cdk.CfnParameter):
        from chalice.cdk import Chalice

        from .runtime import target_python

        target_python(self.options.python)
        events_queue = self.queues[env.get("YUTANG_EVENTS_QUEUE", "yutang-events")]
        return Chalice(self, "App", source_dir=str(derive.ROOT), stage_config={
            "lambda_architecture": self.options.architecture,
            "api_gateway_endpoint_type": self.options.endpoint_type,
            "manage_iam_role": False,
            "iam_role_arn": self.role.role_arn,
            "autogen_policy": False,
            "environment_variables": {
                "YUTANG_BUCKET": self.bucket.bucket_name,
                "YUTANG_EVENTS_QUEUE_URL": events_queue.queue_url,
                "YUTANG_PUBLIC_URL": public_url.value_as_string,
                # The viewer's address behind CloudFront (login throttling, the audit log): the
                # distribution's API behaviours forward it (AllViewerExceptHostHeader includes the
                # CloudFront-* headers; template_checks.check_viewer_address checks both ends);
                # chalicelib.web.viewer_address parses its "ip:port".
                "YUTANG_CLIENT_IP_HEADER": CLIENT_IP_HEADER,
                "YUTANG_SECRET_ARN": self._secret(
                    "secret", "Signs visitor cookies and referral links (YUTANG_SECRET)").secret_arn,
                "YUTANG_ADMIN_KEY_ARN": self._secret(
                    "admin-key", "Bearer key of the /admin/v1 endpoints (YUTANG_ADMIN_KEY)").secret_arn,
                # Its own key, so rotating YUTANG_SECRET never makes sealed stored secrets unreadable.
                "YUTANG_DATA_KEY_ARN": self._secret(
                    "data-key", "Seals stored secrets: WeCom, mini-program, webhook (YUTANG_DATA_KEY)"
                ).secret_arn,
            },
        })

    def _harden_api(self) -> None:
        api = self.api.get_resource("RestAPI")
        api.add_property_override("MethodSettings", [{
            "ResourcePath": "/*", "HttpMethod": "*",
            "ThrottlingRateLimit": self.options.throttle_rate,
            "ThrottlingBurstLimit": self.options.throttle_burst,
        }])
        api.add_property_override("DefinitionBody.x-amazon-apigateway-gateway-responses",
                                  gateway_responses())
        api.add_property_override("DefinitionBody.x-amazon-apigateway-binary-media-types",
                                  binary_media_types())
        if self.options.domain_name and self.options.certificate_arn:
            domain = {"DomainName": self.options.domain_name,
                      "CertificateArn": self.options.certificate_arn,
                      "EndpointConfiguration": "REGIONAL", "SecurityPolicy": "TLS_1_2"}
            if self.options.hosted_zone_id:
                domain["Route53"] = {"HostedZoneId": self.options.hosted_zone_id}
            api.add_property_override("Domain", domain)

    def _public_http_api(self) -> apigwv2.CfnApi:
        """The public routes (scans, media, click redirects, participant pages) through an HTTP
        API — $1.00 instead of $3.50 per million requests — answered by the same app through
        chalicelib/httpapi.py (payload format 2.0). QR codes and links point here (PublicUrl)."""
        api = apigwv2.CfnApi(self, "PublicHttpApi", name=f"yutang-{self.options.stage}-public",
                             protocol_type="HTTP",
                             description="Yutang public routes: /s/ scans, /m/ media, /c/, /p/")
        function_arn = cdk.Fn.get_att(cfn_name("public_handler"), "Arn").to_string()
        integration = apigwv2.CfnIntegration(
            self, "PublicIntegration", api_id=api.ref, integration_type="AWS_PROXY",
            integration_uri=function_arn, payload_format_version="2.0", timeout_in_millis=15000)
        for method, path in derive.public_routes():
            apigwv2.CfnRoute(self, f"PublicRoute{camel(method + path)}", api_id=api.ref,
                             route_key=f"{method} {path}",
                             target=f"integrations/{integration.ref}")
        access_logs = logs.CfnLogGroup(self, "PublicAccessLogs",
                                       log_group_name=f"/aws/apigateway/{self.stack_name}-public",
                                       retention_in_days=self.options.log_retention_days)
        apigwv2.CfnStage(self, "PublicStage", api_id=api.ref, stage_name="$default", auto_deploy=True,
                         default_route_settings=apigwv2.CfnStage.RouteSettingsProperty(
                             throttling_rate_limit=self.options.throttle_rate,
                             throttling_burst_limit=self.options.throttle_burst),
                         access_log_settings=apigwv2.CfnStage.AccessLogSettingsProperty(
                             destination_arn=access_logs.attr_arn,
                             format=ACCESS_LOG_FORMAT))
        if self.options.public_domain_name and self.options.certificate_arn:
            self._public_domain(api)
        lambda_.CfnPermission(self, "PublicInvoke", action="lambda:InvokeFunction",
                              function_name=function_arn, principal="apigateway.amazonaws.com",
                              source_arn=cdk.Fn.sub("arn:${AWS::Partition}:execute-api:${AWS::Region}:"
                                                    "${AWS::AccountId}:${PublicHttpApi}/*"))
        return api

    def _public_domain(self, api: apigwv2.CfnApi) -> None:
        domain = apigwv2.CfnDomainName(
            self, "PublicDomain", domain_name=self.options.public_domain_name,
            domain_name_configurations=[apigwv2.CfnDomainName.DomainNameConfigurationProperty(
                certificate_arn=self.options.certificate_arn, endpoint_type="REGIONAL",
                security_policy="TLS_1_2")])
        mapping = apigwv2.CfnApiMapping(self, "PublicDomainMapping", api_id=api.ref,
                                        domain_name=domain.ref, stage="$default")
        mapping.add_resource_dependency(self.node.find_child("PublicStage"))
        if self.options.hosted_zone_id:
            route53.CfnRecordSet(self, "PublicDomainRecord", hosted_zone_id=self.options.hosted_zone_id,
                                 name=self.options.public_domain_name, type="A",
                                 alias_target=route53.CfnRecordSet.AliasTargetProperty(
                                     dns_name=domain.attr_regional_domain_name,
                                     hosted_zone_id=domain.attr_regional_hosted_zone_id))

    def _bind_queues(self) -> None:
        """Point each SQS event source at the queue defined here (an implicit dependency, so the
        queue exists before Lambda's event source mapping is created)."""
        from chalice.utils import to_cfn_resource_name

        for spec in derive.queues(self.options.stage):
            if spec.consumer:
                function = self.api.get_resource(cfn_name(spec.consumer))
                event = to_cfn_resource_name(f"{spec.consumer}-sqs-event-source")
                function.add_property_override(f"Events.{event}.Properties.Queue",
                                               self.queues[spec.name].queue_arn)

    def _log_groups(self) -> None:
        """One log group per function with a retention, named by the function (Lambda's own
        default group never expires, and Chalice's retention option misnames the API handler's)."""
        for function in derive.functions():
            group = logs.CfnLogGroup(self, f"Logs{camel(function)}",
                                     log_group_name=f"{self.log_prefix}/{function}",
                                     retention_in_days=self.options.log_retention_days)
            self.api.get_resource(cfn_name(function)).add_property_override(
                "LoggingConfig", {"LogGroup": group.ref})

    # -- the console: S3 behind CloudFront, the API on the same domain ----------------------------
    def _console(self) -> cloudfront.Distribution:
        """The operator console (console/dist) from a private bucket (origin access control) and the
        API on the same CloudFront domain, so the console calls it same-origin (no CORS at all):
        /console/* from S3 (deep links answered with /console/index.html by a viewer-request
        function), the public prefixes (scans, media, clicks, participant pages) to the HTTP API,
        every other API prefix to the REST API — uncached, with every viewer header (Authorization
        included, which CloudFront forwards when caching is disabled), cookie and query string."""
        bucket = s3.Bucket(
            self, "ConsoleBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=cdk.RemovalPolicy.RETAIN)
        spa = cloudfront.Function(
            self, "ConsoleRouting", runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="Console deep links -> /console/index.html; / and /console -> /console/",
            code=cloudfront.FunctionCode.from_inline(CONSOLE_ROUTING_JS))
        routing = [cloudfront.FunctionAssociation(
            function=spa, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST)]
        static = cloudfront.BehaviorOptions(
            origin=origins.S3BucketOrigin.with_origin_access_control(bucket),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
            response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
            compress=True, function_associations=routing)

        def api(origin: cloudfront.IOrigin, functions=None) -> cloudfront.BehaviorOptions:
            return cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                compress=True, function_associations=functions)

        suffix = "execute-api.${AWS::Region}.${AWS::URLSuffix}"
        rest = origins.HttpOrigin(cdk.Fn.sub("${RestAPI}." + suffix), origin_path="/api",
                                  protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY)
        public = origins.HttpOrigin(cdk.Fn.sub("${PublicHttpApi}." + suffix),
                                    protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY)
        behaviors = {CONSOLE_PATTERN: static}
        for pattern, target in derive.api_behaviors():
            behaviors[pattern] = api(public if target == "public" else rest)
        domain = self.options.console_domain_name
        certificate = None
        if domain and self.options.console_certificate_arn:
            from aws_cdk import aws_certificatemanager as acm

            certificate = acm.Certificate.from_certificate_arn(
                self, "ConsoleCertificate", self.options.console_certificate_arn)
        distribution = cloudfront.Distribution(
            self, "Console", comment=f"Yutang {self.options.stage}: console and API",
            default_behavior=api(rest, routing),  # / and /console redirect; the rest is the API's 404
            additional_behaviors=behaviors,
            domain_names=[domain] if certificate else None, certificate=certificate,
            minimum_protocol_version=(cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021
                                      if certificate else None),  # the default domain: TLSv1
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_ALL)
        dist = str(derive.ROOT / "console" / "dist")
        # Hashed files first, cached for a year; index.html last, never cached without revalidation.
        assets = s3deploy.BucketDeployment(
            self, "ConsoleAssets", destination_bucket=bucket, destination_key_prefix="console/",
            sources=[s3deploy.Source.asset(dist, exclude=["index.html", ".vite", ".vite/*"])],
            exclude=["index.html"], prune=False,
            cache_control=[s3deploy.CacheControl.from_string(ASSET_CACHE_CONTROL)])
        index = s3deploy.BucketDeployment(
            self, "ConsoleIndex", destination_bucket=bucket, destination_key_prefix="console/",
            sources=[s3deploy.Source.asset(dist, exclude=["*", "!index.html"])], prune=False,
            cache_control=[s3deploy.CacheControl.from_string(INDEX_CACHE_CONTROL)],
            distribution=distribution, distribution_paths=["/console/index.html", "/console/"])
        index.node.add_dependency(assets)
        return distribution

    def _outputs(self) -> None:
        cdk.CfnOutput(self, "ApiUrl", value=cdk.Fn.sub(
            "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api/"))
        cdk.CfnOutput(self, "PublicApiUrl", value=cdk.Fn.sub(
            "https://${PublicHttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"),
            description="The HTTP API for scans and media: the PublicUrl parameter's value")
        cdk.CfnOutput(self, "BucketName", value=self.bucket.bucket_name)
        cdk.CfnOutput(self, "TablePrefix", value=self.table_prefix)
        cdk.CfnOutput(self, "AlarmTopicArn", value=self.alarms.topic_arn)
        cdk.CfnOutput(self, "ConsoleUrl", value=f"https://{self.console.domain_name}/console/",
                      description="The operator console; the API is on the same domain")
        cdk.CfnOutput(self, "AdminKeySecret", value=f"yutang/{self.options.stage}/admin-key")


def binary_media_types() -> list[str]:
    """Chalice's binary types plus the first type browsers put in an image request's Accept header:
    API Gateway decodes a base64 body to bytes only when the request's *first* Accept type is a
    binary media type, so without these an <img src="/m/..."> would receive base64 text."""
    derive._on_path()
    import app as app_module

    types = list(app_module.app.api.binary_types)
    return types + [t for t in BROWSER_IMAGE_ACCEPT if t not in types]


def gateway_responses() -> dict:
    responses = {}
    for kind, (status, code, message) in ERROR_RESPONSES.items():
        body = f'{{"error": {{"code": "{code}", "message": {message}}}}}'
        response = {"responseTemplates": {"application/json": body},
                    "responseParameters": {
                        "gatewayresponse.header.Content-Type": "'application/json'"}}
        if status:
            response["statusCode"] = str(status)
        responses[kind] = response
    return responses


def cfn_name(function: str) -> str:
    """The logical id Chalice gives a function's resource."""
    from chalice.utils import to_cfn_resource_name

    return "APIHandler" if function == "api_handler" else to_cfn_resource_name(function)


def _attr(key: derive.Key) -> dynamodb.Attribute:
    types = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER,
             "B": dynamodb.AttributeType.BINARY}
    return dynamodb.Attribute(name=key.name, type=types[key.type])


def _projection(index: derive.IndexSpec) -> dict:
    kind = {"ALL": dynamodb.ProjectionType.ALL, "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
            "INCLUDE": dynamodb.ProjectionType.INCLUDE}[index.projection]
    extra = {"non_key_attributes": list(index.non_key_attributes)} if index.non_key_attributes else {}
    return {"projection_type": kind, **extra}
