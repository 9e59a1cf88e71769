"""The HTTP API (payload 2.0) adapter: events as AWS documents them, answered by the real app."""

from chalicelib import httpapi
from tests.support.sample_events import load


def v2_event(route_key, raw_path, path_parameters=None, headers=None, cookies=None, query=""):
    """The sample HTTP API event (tests/events/http_api_v2_cookies.json) for another route."""
    event = load("http_api_v2_cookies")
    method = route_key.split(" ")[0]
    event.update(routeKey=route_key, rawPath=raw_path, rawQueryString=query, cookies=cookies,
                 headers=headers or {"user-agent": "agent"}, pathParameters=path_parameters,
                 queryStringParameters=dict(p.split("=", 1) for p in query.split("&")) if query else None)
    event["requestContext"].update(routeKey=route_key)
    event["requestContext"]["http"].update(method=method, path=raw_path, userAgent="agent")
    return event


def test_event_conversion_keeps_route_template_params_and_cookies():
    rest = httpapi.to_rest_event(v2_event("GET /s/{slug}", "/s/abc", {"slug": "abc"},
                                          cookies=["a=1", "b=2"], query="ref=r1"))
    assert rest["requestContext"]["resourcePath"] == "/s/{slug}" and rest["httpMethod"] == "GET"
    assert rest["pathParameters"] == {"slug": "abc"} and rest["headers"]["cookie"] == "a=1; b=2"
    assert rest["queryStringParameters"] == {"ref": "r1"}
    assert rest["requestContext"]["identity"]["sourceIp"] == "203.0.113.9"


def test_response_moves_cookies_and_keeps_binary():
    answer = httpapi.to_v2_response({"statusCode": 200, "headers": {"Set-Cookie": "x=1", "A": "b"},
                                     "body": "aGk=", "isBase64Encoded": True})
    assert answer["cookies"] == ["x=1"] and "Set-Cookie" not in answer["headers"]
    assert answer["isBase64Encoded"] and answer["body"] == "aGk="
