import json
from pathlib import Path

import pytest
import yaml

from trainer.scenarios.engine import (
    METERS,
    PlayError,
    WeakChoice,
    apply_effects,
    choice_outlook,
    choose,
    ownership_rate,
    playthrough,
    rank_result,
    slugify,
    start,
    weak_choices,
    xapi_answered,
    xapi_completed,
)
from trainer.scenarios.loader import load_scenario_file

CASES = Path(__file__).parent / "cases"
BASE = "https://trainer.example"
REGISTRATION = "0b6e4f5e-5d0c-4a43-9a36-1b1f2f1e8c11"


@pytest.fixture(scope="module")
def refund():
    result = load_scenario_file(CASES / "valid" / "refund-no-receipt.yaml")
    assert result.problems == []
    return result.scenario


def golden_cases():
    data = yaml.safe_load((CASES / "playthroughs" / "refund-no-receipt.yaml").read_text())
    return [pytest.param(case, id=case["name"]) for case in data["playthroughs"]]


@pytest.mark.parametrize("case", golden_cases())
def test_golden_playthrough(refund, case):
    state = playthrough(refund, case["choices"])
    assert state.ending == case["ending"]
    assert state.meters == case["meters"]


def test_start_state(refund):
    state = start(refund)
    assert state.node_id == "counter"
    assert state.meters == dict.fromkeys(METERS, 0)
    assert state.path == []
    assert state.ending is None and not state.finished


def test_choose_records_the_path_and_leaves_the_old_state_alone(refund):
    first = start(refund)
    second = choose(refund, first, 0)
    third = choose(refund, second, 0)
    assert second.path == [("counter", "credit")]
    assert third.path == [("counter", "credit"), ("credit", "credit-1")]
    assert (third.node_id, third.ending, third.finished) == ("happy", "good", True)
    assert first.meters == dict.fromkeys(METERS, 0) and first.path == []


def test_risk_is_clamped_at_both_ends(refund):
    # cash (risk +2) then waive the fee too (risk +2): 4 clamps to 3.
    assert playthrough(refund, [2, 1]).meters["risk"] == 3
    # cash (risk +2) then write it up (risk -3): -1 clamps to 0.
    assert playthrough(refund, [2, 0]).meters["risk"] == 0


def test_apply_effects_clamps_only_risk():
    totals = apply_effects(
        {"trust": 0, "time": 0, "cost": 0, "risk": 3, "confidence": 0},
        {"trust": -9, "time": -60, "cost": -500, "risk": 3, "confidence": -7},
    )
    assert totals == {"trust": -9, "time": -60, "cost": -500, "risk": 3, "confidence": -7}
    assert apply_effects(totals, {"risk": -3})["risk"] == 0


@pytest.mark.parametrize("index", [3, -1, 99, True, "0", None])
def test_invalid_choice_index_is_a_clear_error(refund, index):
    with pytest.raises(PlayError, match=r"invalid choice .* at 'counter': expected 0\.\.2"):
        choose(refund, start(refund), index)


def test_no_choice_after_the_end(refund):
    finished = playthrough(refund, [0, 0])
    with pytest.raises(PlayError, match="has ended at 'happy'"):
        choose(refund, finished, 0)


def test_playthrough_with_too_many_choices_fails(refund):
    with pytest.raises(PlayError, match="has ended"):
        playthrough(refund, [0, 0, 0])


def test_rank_result_orders_ending_class_first_then_axes():
    zero = dict.fromkeys(METERS, 0)
    results = {
        "good, costly": ("good", {**zero, "cost": 500}),
        "good, cheap": ("good", {**zero, "cost": 10}),
        "good, cheap, trusted": ("good", {**zero, "cost": 10, "trust": 1}),
        "acceptable, glowing": ("acceptable", {**zero, "trust": 5, "confidence": 5}),
        "poor": ("poor", {**zero, "trust": 9}),
        "unfinished": (None, {**zero, "trust": 9}),
    }
    order = sorted(results, key=lambda name: rank_result(*results[name]), reverse=True)
    assert order == [
        "good, cheap, trusted",
        "good, cheap",
        "good, costly",
        "acceptable, glowing",
        "poor",
        "unfinished",
    ]


def test_rank_result_tie_breaks_trust_confidence_time_cost_risk():
    zero = dict.fromkeys(METERS, 0)
    better = [
        {**zero, "trust": 1},
        {**zero, "confidence": 1},
        {**zero, "time": -1},
        {**zero, "cost": -1},
        {**zero, "risk": -1},
    ]
    for index, meters in enumerate(better):
        assert rank_result("good", meters) > rank_result("good", zero)
        for later in better[index + 1 :]:
            assert rank_result("good", meters) > rank_result("good", later)


def test_choice_outlook(refund):
    assert choice_outlook(refund) == {
        ("counter", "credit"): "good",
        ("counter", "manager"): "good",
        ("counter", "cash"): "acceptable",
        ("credit", "credit-1"): "good",
        ("credit", "credit-2"): "acceptable",
        ("manager", "manager-1"): "acceptable",
        ("manager", "manager-2"): "good",
        ("cash", "cash-1"): "acceptable",
        ("cash", "cash-2"): "poor",
    }


def test_weak_choices_flag_decisions_that_shut_out_a_better_ending(refund):
    cash_path = playthrough(refund, [2, 1]).path
    # Taking the cash lost the good endings; at "cash" the fee waiver lost "acceptable".
    assert weak_choices(refund, cash_path) == [
        WeakChoice("counter", "cash", "acceptable", "good"),
        WeakChoice("cash", "cash-2", "poor", "acceptable"),
    ]
    # Writing it up was the best still available, so only the first decision is weak.
    assert weak_choices(refund, playthrough(refund, [2, 0]).path) == [
        WeakChoice("counter", "cash", "acceptable", "good")
    ]
    assert weak_choices(refund, playthrough(refund, [1, 1]).path) == []


def test_weak_choices_rejects_an_unknown_step(refund):
    with pytest.raises(PlayError, match="unknown choice 'nope' at 'counter'"):
        weak_choices(refund, [("counter", "nope")])


def test_ownership_rate(refund):
    assert ownership_rate(refund, playthrough(refund, [0, 0]).path) == 1.0
    assert ownership_rate(refund, playthrough(refund, [1, 1]).path) == 0.5
    assert ownership_rate(refund, playthrough(refund, [2, 1]).path) == 0.0
    assert ownership_rate(refund, []) is None


def test_slugify():
    assert slugify("Another passage") == "another-passage"
    assert slugify("[Hello] {world}") == "hello-world"
    assert slugify("!!!") == "node"


def test_xapi_answered_shape(refund):
    node = refund.nodes["counter"]
    choice = node.choices[0]
    after = choose(refund, start(refund), 0)
    statement = xapi_answered(refund, node, choice, after, "u-7f3c", REGISTRATION, BASE + "/")

    assert statement["actor"] == {"account": {"homePage": BASE, "name": "u-7f3c"}}
    assert "mbox" not in json.dumps(statement["actor"])
    assert statement["verb"]["id"] == "http://adlnet.gov/expapi/verbs/answered"
    assert statement["verb"]["display"] == {"en-US": "answered"}

    activity = statement["object"]
    assert activity["id"] == f"{BASE}/xapi/scenario/refund-no-receipt/node/counter"
    definition = activity["definition"]
    assert definition["type"] == "http://adlnet.gov/expapi/activities/cmi.interaction"
    assert definition["interactionType"] == "choice"
    assert [c["id"] for c in definition["choices"]] == ["credit", "manager", "cash"]
    assert definition["choices"][0]["description"] == {"en-US": "Offer store credit"}
    assert "correctResponsesPattern" not in definition

    result = statement["result"]
    assert result["response"] == "credit"
    extensions = result["extensions"]
    assert all(key.startswith(f"{BASE}/xapi/ext/") for key in extensions)
    assert {key: extensions[f"{BASE}/xapi/ext/{key}"] for key in METERS} == {
        "trust": 2,
        "time": 5,
        "cost": 30,
        "risk": 0,
        "confidence": 1,
    }
    assert extensions[f"{BASE}/xapi/ext/totals"] == after.meters

    context = statement["context"]
    assert context["registration"] == REGISTRATION
    assert context["contextActivities"] == {
        "parent": [{"id": f"{BASE}/xapi/scenario/refund-no-receipt"}]
    }
    json.dumps(statement)


def test_xapi_answered_groups_by_course(refund):
    node = refund.nodes["counter"]
    after = choose(refund, start(refund), 1)
    statement = xapi_answered(
        refund, node, node.choices[1], after, "u-1", REGISTRATION, BASE, course_id="customer-care"
    )
    assert statement["context"]["contextActivities"]["grouping"] == [
        {"id": f"{BASE}/xapi/course/customer-care"}
    ]
    assert statement["result"]["extensions"][f"{BASE}/xapi/ext/time"] == 20


def test_xapi_completed_carries_the_ending_class(refund):
    state = playthrough(refund, [2, 1])
    statement = xapi_completed(refund, state, "u-7f3c", REGISTRATION, BASE)
    assert statement["verb"]["id"] == "http://adlnet.gov/expapi/verbs/completed"
    assert statement["actor"] == {"account": {"homePage": BASE, "name": "u-7f3c"}}
    assert statement["object"]["id"] == f"{BASE}/xapi/scenario/refund-no-receipt"
    assert statement["object"]["definition"]["name"] == {"en-US": "Refund without a receipt"}
    result = statement["result"]
    assert result["completion"] is True
    assert result["extensions"] == {
        f"{BASE}/xapi/ext/ending": "poor",
        f"{BASE}/xapi/ext/ending-node": "audit",
        f"{BASE}/xapi/ext/totals": {"trust": 4, "time": 0, "cost": 50, "risk": 3, "confidence": 0},
    }
    assert statement["context"] == {"registration": REGISTRATION}
    json.dumps(statement)


def test_xapi_completed_needs_a_finished_play(refund):
    with pytest.raises(PlayError, match="not ended"):
        xapi_completed(refund, start(refund), "u-1", REGISTRATION, BASE)
