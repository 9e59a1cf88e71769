"""Schemathesis checks for the fuzz run: every error answer has the contract's shape."""
import schemathesis


@schemathesis.check
def error_shape(ctx, response, case):
    if response.status_code < 400:
        return None
    is_html = response.headers.get("Content-Type", [""])
    is_html = (is_html[0] if isinstance(is_html, list) else is_html).startswith("text/html")
    if is_html and case.path.startswith(("/s/", "/p/")):
        return None  # pages for people who scanned a code: documented as text/html
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{response.status_code} answer is not JSON: {response.text[:200]!r}") from None
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), f"{response.status_code} answer lacks 'error': {body!r:.200}"
    assert isinstance(error.get("code"), str) and error["code"], f"no error code: {body!r:.200}"
    assert isinstance(error.get("message"), str) and error["message"], f"no message: {body!r:.200}"
    return None
