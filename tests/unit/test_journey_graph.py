"""Journey graph validation and branch conditions (pure)."""
import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.journeys import conditions, graph, significance
from chalicelib.journeys import steps as rules

OK = [{"id": "w", "type": "wait", "hours": 1, "next": "b"},
      {"id": "b", "type": "branch", "if": {"tags_any": ["VIP"]}, "then": "s", "else": "x"},
      {"id": "s", "type": "send", "message": {"text": "hi"}, "next": "x"},
      {"id": "x", "type": "exit"}]


def error(steps):
    with pytest.raises(ValidationFailed) as info:
        graph.check_steps(steps)
    return info.value


def test_a_valid_graph_is_normalised():
    clean = graph.check_steps(OK)
    assert clean[0]["seconds"] == 3600 and clean[1]["if"] == {"tags_any": ["vip"]}
    assert clean[2]["channel"] == "outbox"


@pytest.mark.parametrize("steps, code, field", [
    (OK + [{"id": "lost", "type": "exit"}], "journey-unreachable-step", "steps.lost"),
    ([{"id": "a", "type": "tag", "add": ["t"], "next": "b"},
      {"id": "b", "type": "branch", "if": {"stage": "new"}, "then": "a", "else": "x"},
      {"id": "x", "type": "exit"}], "journey-cycle-without-wait", "steps.a"),
    ([{"id": "a", "type": "wait", "minutes": 5, "next": "a"}], "journey-missing-exit", "steps"),
    ([{"id": "a", "type": "send", "message": {"text": "x"}}, {"id": "x", "type": "exit"}],
     "journey-missing-exit", "steps.a"),
    ([{"id": "a", "type": "teleport", "next": "x"}, {"id": "x", "type": "exit"}],
     "journey-unknown-step-type", "steps.a"),
    ([{"id": "a", "type": "split", "arms": [{"name": "A", "weight": 0, "next": "x"},
                                            {"name": "B", "weight": 1, "next": "x"}]},
      {"id": "x", "type": "exit"}], "invalid-journey-step", "steps.a"),
    ([{"id": "a", "type": "wait", "minutes": 5, "next": "nowhere"}, {"id": "x", "type": "exit"}],
     "journey-unknown-step", "steps.a"),
    ([{"id": "a", "type": "exit"}, {"id": "a", "type": "exit"}], "journey-duplicate-step",
     "steps.a"),
])
def test_bad_graphs_name_the_step_and_the_problem(steps, code, field):
    exc = error(steps)
    assert (exc.code, exc.field) == (code, field)
    if field != "steps":
        assert field.split(".")[1] in exc.message


def test_a_cycle_through_a_wait_is_allowed():
    graph.check_steps([{"id": "w", "type": "wait", "days": 1, "next": "b"},
                       {"id": "b", "type": "branch", "if": {"stage": ["paying"]}, "then": "x",
                        "else": "w"}, {"id": "x", "type": "exit"}])


def test_a_cycle_that_cannot_reach_an_exit_is_refused():
    exc = error([{"id": "w", "type": "wait", "days": 1, "next": "w"}, {"id": "x", "type": "exit"}])
    assert exc.code == "journey-unreachable-step"


def test_conditions_evaluate_tags_stage_events_and_properties():
    ctx = conditions.Context(tags=frozenset({"vip"}), stage="paying",
                             seen=frozenset({"campaign_clicked"}), properties={"amount": 120})
    check = conditions.check
    assert conditions.evaluate(check({"tags_all": ["VIP"]}), ctx)
    assert not conditions.evaluate(check({"tags_none": ["vip"]}), ctx)
    assert conditions.evaluate(check({"stage": ["paying", "active"]}), ctx)
    assert conditions.evaluate(check({"event_since_entry": "campaign_clicked"}), ctx)
    assert conditions.evaluate(check({"property": "amount", "op": "gte", "value": 100}), ctx)
    assert not conditions.evaluate(check({"property": "amount", "op": "lt", "value": 100}), ctx)
    assert not conditions.evaluate(check({"property": "coupon", "op": "exists"}), ctx)
    assert conditions.evaluate(check({"all": [{"stage": "paying"},
                                              {"not": {"tags_any": ["x"]}}]}), ctx)
    assert conditions.evaluate(check({"any": [{"stage": "new"}, {"tags_any": ["vip"]}]}), ctx)


@pytest.mark.parametrize("bad", [{}, {"stage": ["nope"]}, {"all": []}, {"property": "a", "op": "in",
                                                                        "value": 3},
                                 {"colour": "red"}, {"property": "a", "op": "gt"}])
def test_bad_conditions_are_refused(bad):
    with pytest.raises(conditions.ConditionError):
        conditions.check(bad)


def test_split_is_stable_and_follows_the_weights():
    step = {"id": "ab", "type": "split", "arms": [{"name": "A", "weight": 9, "next": "x"},
                                                  {"name": "B", "weight": 1, "next": "x"}]}
    picks = [rules.split(step, f"j#{i}").arm for i in range(2000)]
    assert picks == [rules.split(step, f"j#{i}").arm for i in range(2000)]
    assert 0.85 < picks.count("A") / 2000 < 0.95


def test_significance_of_a_clear_difference():
    result = significance.z_test(50, 1000, 100, 1000)
    assert result["z"] > 3 and result["p_value"] < 0.001
    assert significance.z_test(0, 0, 1, 10) is None
