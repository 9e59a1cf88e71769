"""Schemathesis hooks for the fuzz run: every error answer has the contract's shape, and bodies
are also turned hostile the ways a schema-driven generator never tries (tests/support/hostile.py:
lone surrogates, nesting deep enough to exhaust a recursive parser, times that overflow in UTC,
crons that never fire) — each of which once answered 500."""
import schemathesis
from hypothesis import strategies as st

from tests.support import hostile


@schemathesis.hook
def flatmap_body(ctx, body):
    return st.one_of(st.just(body), hostile.hostile_bodies(body))


@schemathesis.hook
def before_call(ctx, case, kwargs):
    raw = hostile.raw_body(case.body)
    if raw is not None:  # too deep for json.dumps: send the text itself
        kwargs["data"] = raw.encode()


@schemathesis.check
def error_shape(ctx, response, case):
    if response.status_code < 400:
        return
    content_type = next((v for k, v in response.headers.items() if k.lower() == "content-type"), "")
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    path = getattr(case, "path", None) or getattr(getattr(case, "operation", None), "path", "")
    if content_type.startswith("text/html") and path.startswith(("/s/", "/e/", "/p/")):
        return  # pages for people who scanned a code: documented as text/html
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{response.status_code} answer is not JSON: {response.text[:200]!r}") from None
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), f"{response.status_code} answer lacks 'error': {body!r:.200}"
    assert isinstance(error.get("code"), str) and error["code"], f"no error code: {body!r:.200}"
    assert isinstance(error.get("message"), str) and error["message"], f"no message: {body!r:.200}"
    return


# The documented answers of an upstream that refused or failed (WeChat, 企业微信): they carry what
# the upstream said (errcode), e.g. the fuzzer's own random PUT /v1/mp/settings makes WeChat refuse
# the app's credentials for the 小程序码 of a code it created. Any other 5xx is a bug.
UPSTREAM_ERRORS = {502: {"wechat-rejected", "wechat-misconfigured"},
                   503: {"wechat-unavailable", "wecom-unavailable"}}


@schemathesis.check
def no_server_error(ctx, response, case):
    if response.status_code < 500:
        return
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = None
    assert code in UPSTREAM_ERRORS.get(response.status_code, ()), \
        f"server error {response.status_code}: {response.text[:300]}"
