"""Live code benchmarks on the embedded stack (moto over HTTP, as `make dev` runs it).

- AWS calls per first-visit and per returning scan (botocore before-send hooks; exact counts).
- The scan handler against a bare Chalice route answering a 302, both invoked as API Gateway events.
- QR PNG rendering against zxing-cpp's encoder producing the same symbol as an image.
- `import app` against `import boto3`, each in a fresh interpreter, best of N.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

from bench.common import counting, per_call, row

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"small": {"repeat": 30, "imports": 5}, "full": {"repeat": 300, "imports": 15}}


def api_event(path: str, resource: str, params: dict, headers: dict) -> dict:
    return {"resource": resource, "path": path, "httpMethod": "GET", "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": None, "multiValueQueryStringParameters": None,
            "pathParameters": params, "stageVariables": None, "body": None, "isBase64Encoded": False,
            "requestContext": {"resourcePath": resource, "httpMethod": "GET", "path": path,
                               "requestId": "bench", "stage": "api", "identity": {"sourceIp": "127.0.0.1"}}}


def _bare_app():
    from chalice import Chalice, Response

    bare = Chalice(app_name="bare")

    @bare.route("/s/{slug}")
    def redirect(slug):
        return Response(body="", status_code=302, headers={"Location": "https://example.com/"})

    return bare


def scan_rows(repeat: int) -> list[dict]:
    import app as app_module
    from chalicelib.auth import service as auth
    from chalicelib.livecodes import service
    from tests.support.images import png_b64

    tenant = auth.create_tenant("bench")["tenant_id"]
    code = service.create(tenant, {"name": "bench", "channel": "bench", "targets": [
        {"kind": "group", "name": "g", "image": png_b64()},
        {"kind": "url", "name": "u", "url": "https://example.com/"}]})
    service.scan(code["slug"], service.Visitor())  # a warm container: clients and queue URL cached
    with counting() as calls:
        first = service.scan(code["slug"], service.Visitor())
    first_calls = calls.total
    cookie = first.set_cookie.split(";", 1)[0]
    with counting() as calls:
        service.scan(code["slug"], service.Visitor(cookie_header=cookie))
    returning_calls = calls.total

    url_code = service.create(tenant, {"name": "bench-302", "channel": "bench", "targets": [
        {"kind": "url", "name": "u", "url": "https://example.com/"}]})
    slug = url_code["slug"]
    scan_event = api_event(f"/s/{slug}", "/s/{slug}", {"slug": slug}, {"Accept": "text/html"})
    bare = _bare_app()
    assert app_module.app(scan_event, None)["statusCode"] == 302
    assert bare(scan_event, None)["statusCode"] == 302
    t_scan = per_call(lambda: app_module.app(scan_event, None), repeat)
    t_bare = per_call(lambda: bare(scan_event, None), repeat)
    t_floor = per_call(lambda: _raw_calls(tenant, url_code["id"]), repeat)
    return [
        row("AWS calls per first-visit scan", first_calls, "calls", "<= 3", first_calls <= 3),
        row("AWS calls per returning scan", returning_calls, "calls", "<= 2", returning_calls <= 2),
        row("scan handler (302) vs bare Chalice 302 route", t_scan / t_bare, "x",
            f"{t_scan * 1000:.2f} ms vs {t_bare * 1000:.3f} ms"),
        row("scan handler vs its raw AWS calls alone (boto3)", t_scan / t_floor, "x",
            f"{t_floor * 1000:.2f} ms for GetItem+UpdateItem+SendMessage"),
    ]


def _raw_calls(tenant: str, code_id: str) -> None:
    """The storage floor of a first visit: the same three requests made directly with boto3."""
    from chalicelib import aws
    from chalicelib.livecodes.models import LiveCode
    from chalicelib.settings import get_settings

    ddb, table = aws.client("dynamodb"), LiveCode.Meta.table_name
    key = {"tenant_id": {"S": tenant}, "code_id": {"S": code_id}}
    ddb.get_item(TableName=table, Key=key, ConsistentRead=True)
    ddb.update_item(TableName=table, Key=key, UpdateExpression="ADD bench_n :one",
                    ExpressionAttributeValues={":one": {"N": "1"}})
    aws.client("sqs").send_message(QueueUrl=aws.queue_url(get_settings().events_queue),
                                   MessageBody="{}")


def qr_rows(repeat: int) -> list[dict]:
    import zxingcpp

    from chalicelib import qr

    url = "https://yutang.example.com/s/8hxjic57pkesyrax"
    style = qr.QrStyle(size=512)
    modules = len(qr.matrix(url, False))

    def zx():
        barcode = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode)
        return barcode.to_image(scale=512 // modules)

    t_ours = per_call(lambda: qr.render_png(url, style), repeat * 2)
    t_zx = per_call(zx, repeat * 2)
    t_logo = per_call(lambda: qr.render_png(url, style, _logo()), repeat)
    return [row("QR PNG 512px vs zxing-cpp encoder (image)", t_ours / t_zx, "x", "<= 8",
                t_ours / t_zx <= 8),
            row("QR PNG 512px with logo vs zxing-cpp encoder", t_logo / t_zx, "x")]


_LOGO: list[bytes] = []


def _logo() -> bytes:
    if not _LOGO:
        from tests.support.images import png_bytes

        _LOGO.append(png_bytes(200, 200, (200, 20, 20)))
    return _LOGO[0]


def _import_seconds(statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip())


def import_rows(n: int) -> list[dict]:
    apps, boto = [], []
    for _ in range(n):  # interleaved, so both see the same machine state
        apps.append(_import_seconds("import app"))
        boto.append(_import_seconds("import boto3"))
    ratio = min(apps) / min(boto)
    return [row("import app vs import boto3 (best of N)", ratio, "x", "<= 1.3", ratio <= 1.3),
            row("import app vs import boto3 (median)", statistics.median(apps) / statistics.median(boto),
                "x", f"{min(apps) * 1000:.0f} ms vs {min(boto) * 1000:.0f} ms")]


def run(size: str) -> list[dict]:
    from tests.support import stack

    cfg = SIZES[size]
    rows = import_rows(cfg["imports"]) + qr_rows(cfg["repeat"])
    with stack.moto_over_http():
        rows += scan_rows(cfg["repeat"])
    return rows
