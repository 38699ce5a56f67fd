"""Every shipped scenario passes the content check and replays its golden playthroughs."""

from pathlib import Path

import pytest
import yaml

from trainer.scenarios.engine import ENDINGS, METERS, Choice, Node, PlayError, Scenario, playthrough
from trainer.scenarios.loader import VARIANT_STEM, load_scenario_file

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "trainer" / "courses" / "scenarios"
PLAYTHROUGHS = Path(__file__).parent / "playthroughs"
# Translations (name.de.yaml) are checked against their original (test_scenario_variants.py).
SHIPPED = sorted(
    path
    for path in [*SCENARIOS.glob("*.yaml"), *SCENARIOS.glob("*.twee")]
    if not VARIANT_STEM.match(path.stem)
)
MIN_SCENARIOS = 13


def shipped_params():
    return [pytest.param(path, id=path.name) for path in SHIPPED]


def load_clean(path: Path):
    result = load_scenario_file(path)
    assert result.problems == [], "\n".join(str(problem) for problem in result.problems)
    return result.scenario


def load_playthroughs(scenario_id: str) -> list[dict]:
    path = PLAYTHROUGHS / f"{scenario_id}.yaml"
    assert path.is_file(), f"no golden playthrough file {path}"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path}: expected a mapping"
    assert data.get("scenario") == scenario_id, f"{path}: 'scenario' must be {scenario_id!r}"
    cases = data.get("playthroughs")
    assert isinstance(cases, list) and cases, f"{path}: 'playthroughs' must be a non-empty list"
    for case in cases:
        assert set(case) == {"name", "choices", "ending", "meters"}, f"{path}: {case}"
        assert case["ending"] in ENDINGS, f"{path}: {case['name']}: bad ending"
        assert set(case["meters"]) == set(METERS), f"{path}: {case['name']}: need all 5 meters"
        assert all(isinstance(pick, str) for pick in case["choices"]), (
            f"{path}: {case['name']}: name each choice by its id or its text, not its position "
            "(players see the choices shuffled)"
        )
    return cases


def test_enough_scenarios_ship():
    assert len(SHIPPED) >= MIN_SCENARIOS, (
        f"{len(SHIPPED)} scenarios in {SCENARIOS}; at least {MIN_SCENARIOS} must ship"
    )


@pytest.mark.parametrize("path", shipped_params())
def test_scenario_passes_content_check(path):
    load_clean(path)


@pytest.mark.parametrize("path", shipped_params())
def test_scenario_has_enough_decisions_and_endings(path):
    scenario = load_clean(path)
    assert len(scenario.decisions) >= 4
    assert len(scenario.endings) >= 3


@pytest.mark.parametrize("path", shipped_params())
def test_golden_playthroughs_reproduce(path):
    scenario = load_clean(path)
    for case in load_playthroughs(scenario.id):
        try:
            state = playthrough(scenario, case["choices"])
        except PlayError as error:
            pytest.fail(f"{scenario.id}: {case['name']}: {error}")
        assert state.finished, f"{scenario.id}: {case['name']}: stopped at {state.node_id!r}"
        assert (state.ending, state.meters) == (case["ending"], case["meters"]), (
            f"{scenario.id}: {case['name']} (path {state.path})"
        )


@pytest.mark.parametrize("path", shipped_params())
def test_golden_playthroughs_cover_every_ending_class(path):
    scenario = load_clean(path)
    present = {node.ending for node in scenario.endings}
    covered = {case["ending"] for case in load_playthroughs(scenario.id)}
    assert present <= covered, f"{scenario.id}: no playthrough reaches {sorted(present - covered)}"


def test_every_playthrough_file_belongs_to_a_shipped_scenario():
    shipped = {path.stem for path in SHIPPED}
    orphans = [path.name for path in PLAYTHROUGHS.glob("*.yaml") if path.stem not in shipped]
    assert orphans == []


# Issue 15's new scenarios are written so that no constant strategy wins. (The content lint
# checks every shipped scenario; these four must pass even its strictest reading.)
NO_CONSTANT_STRATEGY = [
    "chat-gone-wrong",
    "hold-and-transfer",
    "bereaved-at-the-counter",
    "coaching-after-the-call",
]


def endings_under_strategy(scenario, allowed) -> set[str]:
    """Return the ending classes a player can reach who, at every decision, takes a choice
    that `allowed(index, choice)` accepts whenever one exists, and any choice otherwise."""
    reached, todo, seen = set(), [scenario.start], set()
    while todo:
        node = scenario.nodes[todo.pop()]
        if node.is_ending:
            reached.add(node.ending)
            continue
        picks = [c for i, c in enumerate(node.choices) if allowed(i, c)] or node.choices
        for choice in picks:
            if choice.to not in seen:
                seen.add(choice.to)
                todo.append(choice.to)
    return reached


@pytest.mark.parametrize("scenario_id", NO_CONSTANT_STRATEGY)
def test_no_constant_strategy_reaches_the_good_ending(scenario_id):
    scenario = load_clean(SCENARIOS / f"{scenario_id}.yaml")
    assert "good" in endings_under_strategy(scenario, lambda index, choice: True)
    strategies = {"always the first choice": lambda index, choice: index == 0}
    for kind in {choice.kind for node in scenario.decisions for choice in node.choices}:
        strategies[f"always {kind}"] = lambda index, choice, kind=kind: choice.kind == kind
    winners = [
        name
        for name, allowed in strategies.items()
        if "good" in endings_under_strategy(scenario, allowed)
    ]
    assert winners == []


def test_the_strategy_check_sees_a_scenario_won_by_always_taking_the_first_choice():
    own = Choice("own", "Fix it", "fixed", "own")
    script = Choice("script", "Read the policy", "stuck", "script")
    scenario = Scenario(
        id="tiny",
        title="Tiny",
        setting="",
        metric="",
        action="",
        authority="",
        summary=None,
        start="ask",
        nodes={
            "ask": Node("ask", "?", [own, script]),
            "fixed": Node("fixed", "Fixed.", ending="good", debrief="."),
            "stuck": Node("stuck", "Stuck.", ending="poor", debrief="."),
        },
    )
    assert endings_under_strategy(scenario, lambda index, choice: index == 0) == {"good"}
    assert endings_under_strategy(scenario, lambda index, choice: choice.kind == "script") == {
        "poor"
    }
