"""Pure rules: tag normalisation, query planning, stages, audience criteria, cursors, mp tokens,
WeChat answers."""
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib import pagination as cursors
from chalicelib import tags
from chalicelib.audience import stages
from chalicelib.audience.criteria import Criteria, driver
from chalicelib.content.query import ALL, Query, plan
from chalicelib.errors import DomainError, RateLimited, Unauthorized, ValidationFailed


@pytest.mark.parametrize("raw,clean", [(" Skin  Care ", "skin care"), ("ＶＩＰ", "vip"),
                                       ("新品", "新品"), ("Straße", "strasse"), ("a\tb", "a b")])
def test_tags_are_normalised(raw, clean):
    assert tags.normalize(raw) == clean


@pytest.mark.parametrize("raw", ["", "   ", "a,b", "a#b", "x" * 65, "a\x00b", 5, None, "a\u200bb"])
def test_bad_tags_are_refused(raw):
    with pytest.raises(ValidationFailed):
        tags.normalize(raw)


def test_tag_lists_dedupe_and_cap():
    assert tags.normalize_all(["A", "a", " b"]) == ["a", "b"]
    assert tags.parse_csv("a,,B, ", "tags") == ["a", "b"]
    with pytest.raises(ValidationFailed):
        tags.normalize_all([f"t{i}" for i in range(51)])
    with pytest.raises(ValidationFailed):
        tags.normalize_all("a")


def test_all_reads_the_smallest_list():
    q = Query(tags=("big", "small"), match="all")
    assert q.candidate_lists() == [("T", "big"), ("T", "small")]
    assert plan(q, {("T", "big"): 5000, ("T", "small"): 50}) == [("T", "small")]
    typed = Query(tags=("big", "small"), ctype="video")
    assert plan(typed, {("T", "big"): 9, ("T", "small"): 8, ("Y", "video"): 2}) == [("Y", "video")]


def test_any_unions_unless_the_type_is_smaller():
    q = Query(tags=("a", "b"), match="any", ctype="text")
    assert plan(q, {("T", "a"): 5, ("T", "b"): 5, ("Y", "text"): 100}) == [("T", "a"), ("T", "b")]
    assert plan(q, {("T", "a"): 50, ("T", "b"): 50, ("Y", "text"): 10}) == [("Y", "text")]
    assert Query(tags=("a",), match="any").candidate_lists() == []


def test_no_tags_reads_the_type_or_everything():
    assert plan(Query()) == [ALL]
    assert plan(Query(exclude=("x",))) == [ALL]
    assert plan(Query(ctype="image")) == [("Y", "image")]


def test_matching_rule():
    q = Query(tags=("a", "b"), match="all", exclude=("c",), ctype="text")
    assert q.matches(["a", "b"], "text") and not q.matches(["a"], "text")
    assert not q.matches(["a", "b", "c"], "text") and not q.matches(["a", "b"], "link")
    assert Query(tags=("a", "b"), match="any").matches(["b"], "x")


def test_query_params_are_checked():
    q = Query.from_params({"tags": "A,b", "match": "any", "not": "C", "type": "text"})
    assert q == Query(("a", "b"), "any", ("c",), "text")
    for params in ({"match": "most"}, {"type": "gif"}, {"tag": "a"}):
        with pytest.raises(ValidationFailed):
            Query.from_params(params)


T = stages.Thresholds()
TODAY = date(2025, 6, 30)


def at(days_ago):
    return datetime(2025, 6, 30, 12, tzinfo=timezone.utc) - timedelta(days=days_ago)


@pytest.mark.parametrize("first,last,paid,expected", [
    (0, 0, None, "new"), (6, 6, None, "new"), (7, 7, None, "silent"), (40, 6, None, "active"),
    (40, 7, None, "silent"), (40, 29, None, "silent"), (40, 30, None, "churned"),
    (90, 80, 29, "paying"), (90, 80, 30, "churned"), (3, 3, 1, "paying"), (40, None, None, "churned")])
def test_stage_rule(first, last, paid, expected):
    got = stages.stage(at(first), at(last) if last is not None else None,
                       at(paid) if paid is not None else None, TODAY, T)
    assert got == expected


def test_thresholds_are_tenant_settings():
    custom = stages.Thresholds(new_days=1, active_days=14, churn_days=60, paying_days=7)
    assert stages.stage(at(2), at(10), None, TODAY, custom) == "active"
    assert stages.stage(at(90), at(45), None, TODAY, custom) == "silent"
    assert stages.Thresholds.from_input({"new_days": 3}).new_days == 3
    for bad in ({"new_days": 0}, {"active_days": 31}, {"x": 1}, {"churn_days": "a"}):
        with pytest.raises(ValidationFailed):
            stages.Thresholds.from_input(bad)


def test_utc_days():
    late = datetime(2025, 6, 30, 23, 30, tzinfo=timezone(timedelta(hours=-2)))
    assert stages.day_of(late) == date(2025, 7, 1)


def test_criteria_and_driver():
    c = Criteria.build(tags_all=["A"], tags_none=["b"], stages=["new"])
    assert c.matches(["a"], "new") and not c.matches(["a", "b"], "new") and not c.matches(["a"], "active")
    assert driver(c) == ("tag", ("a",))
    assert driver(Criteria.build(tags_any=["x", "y"])) == ("any", ("x", "y"))
    assert driver(Criteria.build(stages=["new", "active"])) == ("stages", ("new", "active"))
    assert driver(Criteria.build(stages=["churned"])) == ("all", ())
    assert driver(Criteria.build()) == ("all", ())
    with pytest.raises(ValidationFailed):
        Criteria.build(stages=["asleep"])


def test_cursors_round_trip_and_refuse_tampering():
    token = cursors.encode("s", "t1", "q", {"before": "abc"})
    assert cursors.decode("s", "t1", "q", token) == {"before": "abc"}
    assert cursors.decode("s", "t1", "q", None) is None
    body, sig = token.split(".")
    forged = cursors.encode("other-secret", "t1", "q", {"before": "zzz"})
    for bad in (forged, token + "x", "x" + token, "e30", f"{body}.", token.replace(body, body[:-1]),
                forged.split(".")[0] + "." + sig):
        with pytest.raises(ValidationFailed):
            cursors.decode("s", "t1", "q", bad)
    for tenant, scope in (("t2", "q"), ("t1", "other")):
        with pytest.raises(ValidationFailed):
            cursors.decode("s", tenant, scope, token)


def test_wechat_answers_map_to_stable_errors():
    from chalicelib.mp import wechat

    ok = wechat.parse({"openid": "o1", "session_key": "k", "unionid": "u1"})
    assert (ok.openid, ok.unionid) == ("o1", "u1")
    assert wechat.parse({"openid": "o1", "session_key": "k"}).unionid is None
    cases = [(40029, Unauthorized, "invalid-code"), (40163, Unauthorized, "invalid-code"),
             (45011, RateLimited, "wechat-rate-limited"), (-1, wechat.WeChatUnavailable, None),
             (40013, wechat.WeChatMisconfigured, None), (99999, wechat.WeChatUnavailable, None)]
    for errcode, kind, code in cases:
        with pytest.raises(kind) as err:
            wechat.parse({"errcode": errcode, "errmsg": "x"})
        assert code is None or err.value.code == code
    with pytest.raises(DomainError):
        wechat.parse({"errcode": 0})


def test_mp_tokens(monkeypatch):
    from chalicelib.mp import tokens
    from chalicelib.settings import Settings

    monkeypatch.setattr(tokens, "get_settings", lambda: Settings(secret="k", mp_token_ttl_seconds=60))
    token, expires = tokens.issue("abcdefgh", "abcdefghijkm", now=1000)
    assert expires == 1060 and tokens.verify(token, now=1059) == ("abcdefgh", "abcdefghijkm")
    with pytest.raises(Unauthorized) as err:
        tokens.verify(token, now=1060)
    assert err.value.code == "mp-token-expired"
    parts = token.split(".")
    for bad in ("", "mp1", token + "x", ".".join([parts[0], "zzzzzzzz", *parts[2:]]),
                ".".join([*parts[:3], "9999999999", parts[4]])):
        with pytest.raises(Unauthorized):
            tokens.verify(bad, now=1000)
