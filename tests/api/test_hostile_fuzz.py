"""The fuzz run's hostile strategies (tests/support/hostile.py), driven straight through
chalice.test.Client: fast, and a regression of any of issue 12's 500s fails here too."""
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import auth_headers
from tests.support import hostile

BODIES = {
    "/v1/livecodes": {"name": "n", "channel": "c", "strategy": "fill",
                      "targets": [{"kind": "url", "name": "a", "url": "https://example.com",
                                   "expires_at": "2030-01-01T00:00:00Z"}]},
    "/v1/campaigns": {"name": "n", "audience": {"tags_any": ["vip"]}, "message": {"text": "hi"},
                      "schedule": {"cron": "0 10 * * 1"}},
    "/v1/events": {"user_id": "u_x", "type": "custom", "at": "2026-01-01T00:00:00Z",
                   "properties": {"k": "v"}},
    "/v1/contents": {"type": "text", "title": "t", "body": "b", "tags": ["a"]},
    "/v1/users": {"identities": {"user": "u-1"}, "tags": ["t"]},
    "/mp/v1/login": {"tenant": "t", "code": "c"},
}

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


def _send(client, tenant, path, body):
    raw = hostile.raw_body(body)
    data = raw if raw is not None else json.dumps(body)
    headers = auth_headers(tenant) if path.startswith("/v1/") else {"Content-Type": "application/json"}
    return client.http.post(path, headers=headers, body=data)


def test_hostile_bodies_never_answer_5xx(app_client, tenant):
    answers = []

    @SETTINGS
    @given(st.sampled_from(sorted(BODIES)).flatmap(
        lambda p: hostile.hostile_bodies(BODIES[p]).map(lambda b: (p, b))))
    def run(case):
        path, body = case
        resp = _send(app_client, tenant, path, body)
        answers.append(resp.status_code)
        assert resp.status_code < 500, (path, str(body)[:200], resp.body[:300])
        if resp.status_code >= 400:
            assert json.loads(resp.body)["error"]["code"]

    run()
    assert any(s == 400 for s in answers)


def test_strategies_produce_each_kind():
    body = BODIES["/v1/campaigns"]
    assert hostile.raw_body({hostile.DEEP_MARKER: 1001}).count("[") == 1001
    assert "30 2" in hostile.NEVER_FIRING[0]
    found = set()

    @settings(max_examples=60, derandomize=True, deadline=None)
    @given(hostile.hostile_bodies(body))
    def collect(b):
        text = json.dumps(b)
        if "\\ud" in text:
            found.add("surrogate")
        if hostile.DEEP_MARKER in text:
            found.add("deep")
        if any(c in text for c in hostile.NEVER_FIRING):
            found.add("cron")
        if "99" in text or "0001-" in text:
            found.add("time")

    collect()
    assert found == {"surrogate", "deep", "cron", "time"}
