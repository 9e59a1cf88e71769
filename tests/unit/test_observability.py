"""Structured logs mask personal identifiers; EMF metric lines have the CloudWatch shape."""
import io
import json
import logging

from chalicelib import observability


def test_redact_masks_identifiers_and_phone_numbers():
    text = 'openid=oAbCdEf123456 unionid: "uXyZ987654" phone 13812345678 external_userid=wmABCDEF'
    out = observability.redact(text)
    assert "oAbCdEf123456" not in out and "uXyZ987654" not in out and "wmABCDEF" not in out
    assert "13812345678" not in out
    assert observability.redact("call 13812345678 now") == "call 138****5678 now"
    assert observability.redact("nothing personal here 42") == "nothing personal here 42"


def test_json_formatter_includes_bound_context_and_fields():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(observability.JsonFormatter())
    logger = logging.getLogger("yutang.test.obs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    observability.clear()
    observability.bind(request_id="req-1", tenant="t1")
    logger.info("scan for openid=oSECRET999", extra={"fields": {"route": "/s/{slug}", "status": 200}})
    observability.clear()
    entry = json.loads(stream.getvalue())
    assert entry["request_id"] == "req-1" and entry["tenant"] == "t1"
    assert entry["route"] == "/s/{slug}" and entry["status"] == 200
    assert "oSECRET999" not in entry["message"]


def test_metric_is_embedded_metric_format(capsys):
    observability.metric("scans", 1, result="assigned")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    directive = line["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "Yutang"
    assert directive["Metrics"] == [{"Name": "scans", "Unit": "Count"}]
    assert set(directive["Dimensions"][0]) == {"Stage", "result"}
    assert line["scans"] == 1 and line["result"] == "assigned"
