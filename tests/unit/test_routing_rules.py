"""A code's own routing rules (audience, stores, experiment), rule by rule and combined (pure)."""
import random
from datetime import datetime, timezone

import pytest

from chalicelib.errors import Conflict, ValidationFailed
from chalicelib.livecodes import rules_audience, rules_experiment, rules_stores
from chalicelib.livecodes.routing import Context, Rules, Target, Window, route
from chalicelib.livecodes.rules_audience import AudienceRule, Profile
from chalicelib.livecodes.rules_experiment import Arm, Experiment
from chalicelib.livecodes.rules_stores import Point, Store

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # Monday 10:00 in Shanghai
VIP = Profile(frozenset({"vip", "beijing"}), "paying")
PEOPLE = Profile(frozenset({"beijing"}), "new")
# two stores in Shanghai ~3 km apart, one in Beijing
PEOPLES_SQUARE = Store(31.2304, 121.4737, 2000, "shanghai")
JINGAN = Store(31.2235, 121.4453, 2000, "shanghai")
WANGFUJING = Store(39.9139, 116.4108, 5000, "beijing")
NEAR_SQUARE = Point(31.2310, 121.4740)  # ~70 m from People's Square, ~2.8 km from Jing'an


def t(id, **kw):
    return Target(id=id, **kw)


# ---- audience ----------------------------------------------------------------------------------

AUDIENCE = (AudienceRule(("vipstaff",), tags_all=frozenset({"vip"})),
            AudienceRule(("newbie",), stages=frozenset({"new"})))


def test_a_known_customer_matching_a_rule_goes_to_its_target():
    rules = Rules(targets=(t("general"), t("vipstaff"), t("newbie")), audience=AUDIENCE)
    d = route(rules, NOW, Context(profile=VIP))
    assert (d.target.id, d.via) == ("vipstaff", "audience")
    assert route(rules, NOW, Context(profile=PEOPLE)).target.id == "newbie"


def test_unknown_visitors_and_unmatched_customers_never_get_reserved_targets():
    rules = Rules(targets=(t("vipstaff"), t("newbie"), t("general")), audience=AUDIENCE)
    assert route(rules, NOW).target.id == "general"
    other = Profile(frozenset({"x"}), "active")
    assert route(rules, NOW, Context(profile=other)).target.id == "general"


def test_the_first_matching_rule_with_room_wins_else_the_next_else_normal_routing():
    rules = Rules(targets=(t("vipstaff", capacity=1, assigned=1), t("newbie"), t("general")),
                  audience=AUDIENCE)
    vip_and_new = Profile(frozenset({"vip"}), "new")
    assert route(rules, NOW, Context(profile=vip_and_new)).target.id == "newbie"
    assert route(rules, NOW, Context(profile=VIP)).target.id == "general"


def test_a_rule_conditions_all_any_none_and_stages_combine():
    rule = AudienceRule(("x",), tags_all=frozenset({"a"}), tags_any=frozenset({"b", "c"}),
                        tags_none=frozenset({"blocked"}), stages=frozenset({"active", "paying"}))
    assert rule.matches(Profile(frozenset({"a", "c"}), "active"))
    assert not rule.matches(Profile(frozenset({"a"}), "active"))  # no tags_any
    assert not rule.matches(Profile(frozenset({"a", "b", "blocked"}), "active"))
    assert not rule.matches(Profile(frozenset({"a", "b"}), "churned"))
    assert not rule.matches(Profile(frozenset({"b"}), "paying"))  # tags_all


def test_audience_rules_keep_the_codes_strategy_inside_the_rule():
    rules = Rules(strategy="round_robin", seq=1, targets=(t("a"), t("b"), t("c")),
                  audience=(AudienceRule(("a", "b"), tags_any=frozenset({"vip"})),))
    assert route(rules, NOW, Context(profile=VIP)).target.id == "b"


def test_parse_audience_rules_clean_and_refused():
    clean = rules_audience.parse({"rules": [{"tags_all": ["VIP "], "stages": ["paying"],
                                             "target_ids": ["t1", "t1"]}]}, ["t1"])
    assert clean == [{"tags_all": ["vip"], "stages": ["paying"], "target_ids": ["t1"]}]
    bad = [({"rules": [{"target_ids": ["t1"]}]}, "rules[0]"),  # no condition
           ({"rules": [{"tags_any": ["a"], "target_ids": ["zz"]}]}, "rules[0].target_ids"),
           ({"rules": [{"tags_any": ["a"], "target_ids": []}]}, "rules[0].target_ids"),
           ({"rules": [{"stages": ["gold"], "target_ids": ["t1"]}]}, "rules[0].stages"),
           ({"rules": [{"tags_any": ["a"], "target_ids": ["t1"], "when": 1}]}, "rules[0].when"),
           ({"rules": "x"}, "rules"), ({"rules": [1]}, "rules[0]")]
    for body, field in bad:
        with pytest.raises(ValidationFailed) as err:
            rules_audience.parse(body, ["t1"])
        assert (err.value.code, err.value.field) == ("invalid-audience-rule", field), body


# ---- stores ------------------------------------------------------------------------------------

STORES = (t("square", store=PEOPLES_SQUARE), t("jingan", store=JINGAN),
          t("wangfujing", store=WANGFUJING), t("online"))


def test_haversine_distance_is_right_to_a_metre():
    # Shanghai People's Square to Beijing Wangfujing: ~1,067 km
    assert rules_stores.distance_m(PEOPLES_SQUARE, WANGFUJING) == pytest.approx(1_067_000, rel=0.01)
    assert rules_stores.distance_m(Point(0, 0), Point(0, 1)) == pytest.approx(111_195, abs=1)


def test_a_located_visitor_goes_to_the_nearest_store_in_reach():
    d = route(Rules(targets=STORES), NOW, Context(point=NEAR_SQUARE))
    assert (d.target.id, d.via) == ("square", "store-nearest")
    near_jingan = Point(31.2240, 121.4460)
    assert route(Rules(targets=STORES), NOW, Context(point=near_jingan)).target.id == "jingan"


def test_the_nearest_store_without_room_passes_to_the_next_in_reach():
    wide_jingan = t("jingan", store=JINGAN._replace(radius_m=5000))
    stores = (t("square", store=PEOPLES_SQUARE, capacity=1, assigned=1), wide_jingan, *STORES[2:])
    d = route(Rules(targets=stores), NOW, Context(point=NEAR_SQUARE))
    assert (d.target.id, d.via) == ("jingan", "store-nearest")  # 2.8 km, within its 5 km
    narrow = (stores[0], *STORES[1:])  # Jing'an's 2 km does not reach: the other targets
    assert route(Rules(targets=narrow), NOW, Context(point=NEAR_SQUARE)).target.id == "online"


def test_out_of_reach_uses_the_region_else_the_other_targets_else_the_fallback():
    far = Point(23.1291, 113.2644)  # Guangzhou: no store in reach
    rules = Rules(targets=STORES, fallback=t("cs"))
    d = route(rules, NOW, Context(point=far, region="Beijing"))
    assert (d.target.id, d.via) == ("wangfujing", "store-region")
    assert route(rules, NOW, Context(point=far, region="guangdong")).target.id == "online"
    only_stores = Rules(targets=STORES[:3], fallback=t("cs"))
    d = route(only_stores, NOW, Context(point=far))
    assert (d.target.id, d.fallback) == ("cs", True)


def test_no_location_no_region_never_reaches_a_store():
    assert route(Rules(targets=STORES), NOW).target.id == "online"


def test_parse_store_clean_and_refused():
    assert rules_stores.parse({"lat": 31.2, "lng": 121.4, "radius_m": 500, "region": " 上海 "}) == {
        "lat": 31.2, "lng": 121.4, "radius_m": 500, "region": "上海"}
    for raw, field in [({"lat": 91, "lng": 0, "radius_m": 1}, "store.lat"),
                       ({"lat": "31", "lng": 0, "radius_m": 1}, "store.lat"),
                       ({"lat": 1, "lng": 0, "radius_m": 0}, "store.radius_m"),
                       ({"lat": 1, "lng": 0, "radius_m": 1.5}, "store.radius_m"),
                       ({"lat": 1, "lng": 0, "radius_m": 9, "region": ""}, "store.region"),
                       ({"lat": 1, "lng": 0}, "store.radius_m"), ([1], "store")]:
        with pytest.raises(ValidationFailed) as err:
            rules_stores.parse(raw)
        assert (err.value.code, err.value.field) == ("invalid-store", field), raw
    with pytest.raises(ValidationFailed):
        rules_stores.parse_point("nan", "1")


# ---- experiment --------------------------------------------------------------------------------

EXP = Experiment("adds", (Arm("A", 1, ("a1",)), Arm("B", 3, ("b1", "b2"))))
EXP_TARGETS = (t("a1"), t("b1"), t("b2"), t("outside"))


def test_new_visitors_split_by_arm_weight():
    rules = Rules(targets=EXP_TARGETS, experiment=EXP)
    rng = random.Random(7)
    arms = [route(rules, NOW, rng=rng).arm for _ in range(4000)]
    assert arms.count("B") / len(arms) == pytest.approx(0.75, abs=0.03)
    assert set(arms) == {"A", "B"}  # the target outside every arm gets no new visitor


def test_a_rerouted_visitor_stays_in_their_arm():
    rules = Rules(targets=(t("a1"), t("b1", enabled=False), t("b2")), experiment=EXP)
    for seed in range(30):
        d = route(rules, NOW, Context(previous="b1"), random.Random(seed))
        assert (d.target.id, d.arm) == ("b2", "B")


def test_the_confirmed_winner_takes_every_new_visitor():
    rules = Rules(targets=EXP_TARGETS, experiment=EXP._replace(winner="A"))
    assert {route(rules, NOW, Context(previous="b1"), random.Random(s)).target.id
            for s in range(50)} == {"a1"}


def test_a_full_arm_sends_visitors_to_the_other_and_a_full_winner_to_what_is_left():
    full_a = (t("a1", capacity=1, assigned=1), t("b1"), t("b2"), t("outside"))
    rules = Rules(targets=full_a, experiment=EXP._replace(arms=(Arm("A", 1000, ("a1",)),
                                                                 Arm("B", 1, ("b1",)))))
    assert {route(rules, NOW, rng=random.Random(s)).arm for s in range(20)} == {"B"}
    won = Rules(targets=full_a, experiment=EXP._replace(winner="A"), fallback=t("cs"))
    assert route(won, NOW).target.id == "outside"


def test_significance_figures_match_textbook_values():
    z, p = rules_experiment.z_test(100, 1000, 130, 1000)
    assert z == pytest.approx(2.1027, abs=1e-3) and p == pytest.approx(0.0355, abs=1e-3)
    stat, p2 = rules_experiment.chi_square([(100, 1000), (130, 1000)])
    assert stat == pytest.approx(z * z, rel=1e-9) and p2 == pytest.approx(p, rel=1e-9)
    for x, df in ((3.841459, 1), (5.991465, 2), (7.814728, 3), (9.487729, 4), (11.0705, 5)):
        assert rules_experiment.chi2_sf(x, df) == pytest.approx(0.05, abs=1e-5)
    assert rules_experiment.z_test(0, 0, 3, 10) == (None, None)


def test_report_names_rates_p_values_and_the_leader():
    rep = rules_experiment.report(EXP, {"A": (100, 1000), "B": (130, 1000)})
    a, b = rep["arms"]
    assert (a["rate"], a["p_value"], b["rate"]) == (0.1, None, 0.13)
    assert b["p_value"] == pytest.approx(0.0355, abs=1e-3) and rep["leader"] == "B"
    assert rules_experiment.report(EXP, {})["leader"] is None


def test_parse_experiment_clean_and_refused():
    body = {"goal": "joins", "arms": [{"name": "A", "weight": 1, "target_ids": ["t1"]},
                                      {"name": "B", "weight": 2, "target_ids": ["t2"]}]}
    assert rules_experiment.parse(body, ["t1", "t2"], frozenset())["arms"][1]["weight"] == 2
    cases = [({**body, "goal": "clicks"}, "goal"),
             ({**body, "arms": body["arms"][:1]}, "arms"),
             ({**body, "arms": [body["arms"][0], {**body["arms"][1], "name": "A"}]}, "arms[1].name"),
             ({**body, "arms": [body["arms"][0], {**body["arms"][1], "target_ids": ["t1"]}]},
              "arms[1].target_ids"),
             ({**body, "arms": [{**a, "weight": 0} for a in body["arms"]]}, "arms")]
    for bad, field in cases:
        with pytest.raises(ValidationFailed) as err:
            rules_experiment.parse(bad, ["t1", "t2"], frozenset())
        assert (err.value.code, err.value.field) == ("invalid-experiment", field), bad
    with pytest.raises(ValidationFailed) as err:
        rules_experiment.parse(body, ["t1", "t2"], frozenset({"t2"}))  # reserved by an audience rule
    assert err.value.field == "arms[1].target_ids"
    with pytest.raises(ValidationFailed):
        rules_experiment.parse_winner({"arm": "C"}, EXP)
    with pytest.raises(Conflict):
        rules_experiment.parse_winner({"arm": "A"}, None)


# ---- combined ----------------------------------------------------------------------------------

def test_precedence_audience_then_store_then_experiment_then_the_rest():
    rules = Rules(targets=(t("vipstaff"), t("square", store=PEOPLES_SQUARE), t("a1"), t("b1"),
                           t("b2"), t("outside")),
                  audience=(AudienceRule(("vipstaff",), tags_all=frozenset({"vip"})),),
                  experiment=EXP)
    assert route(rules, NOW, Context(profile=VIP, point=NEAR_SQUARE)).via == "audience"
    assert route(rules, NOW, Context(profile=PEOPLE, point=NEAR_SQUARE)).via == "store-nearest"
    d = route(rules, NOW, Context(profile=PEOPLE), random.Random(1))
    assert d.via == "experiment" and d.target.id in {"a1", "b1", "b2"}


def test_outside_the_windows_only_the_fallback_answers_even_for_rules():
    rules = Rules(targets=(t("vipstaff"), t("general")), fallback=t("cs"),
                  audience=(AudienceRule(("vipstaff",), tags_all=frozenset({"vip"})),),
                  windows=(Window((6, 7), datetime(2026, 1, 1, 9).time(), None),))
    d = route(rules, NOW, Context(profile=VIP))
    assert (d.target.id, d.reason) == ("cs", "outside-hours")


def test_a_code_without_own_rules_routes_exactly_like_choose():
    from chalicelib.livecodes.routing import choose

    rules = Rules(strategy="weighted", targets=(t("a", weight=1), t("b", weight=5)))
    assert [route(rules, NOW, rng=random.Random(s)).target.id for s in range(50)] == \
        [choose(rules, NOW, random.Random(s)).target.id for s in range(50)]
