"""The scenario lint: no constant strategy may win, and the loader's warnings are printed by
`flask content check` (errors with --strict)."""

import shutil
from pathlib import Path

from trainer.scenarios.engine import Choice, Node, Scenario
from trainer.scenarios.lint import first_choice_path, kind_always_wins, lint_scenario
from trainer.scenarios.loader import load_scenario_file

CASES = Path(__file__).parent / "cases"

HEADER = """\
id: {id}
title: Lint fixture
setting: Service desk
metric: CSAT
action: Decide who fixes it
authority: Goodwill up to an example limit
start: ask
nodes:
"""

# The first choice always wins; kinds differ along the way, so no kind wins.
FIRST_WINS = (
    HEADER
    + """\
  ask:
    text: The customer's car is not ready.
    choices:
      - {text: Ring her now, to: plan, kind: own}
      - {text: Wait until she arrives, to: late, kind: own}
  plan:
    text: She needs a car tomorrow.
    choices:
      - {text: Ask the service manager for a loan car, to: happy, kind: escalate}
      - {text: Promise one yourself, to: late, kind: bend}
  happy: {ending: good, text: She has a car., debrief: Early news and the right person.}
  late: {ending: poor, text: She has no car., debrief: News came too late.}
"""
)

# Always choosing `own` wins, and the first choice does not.
OWN_WINS = (
    HEADER
    + """\
  ask:
    text: The customer's car is not ready.
    choices:
      - {text: Wait until she arrives, to: late, kind: script}
      - {text: Ring her now, to: plan, kind: own}
  plan:
    text: She needs a car tomorrow.
    choices:
      - {text: Tell her to ask the rental desk, to: late, kind: deflect}
      - {text: Book the loan car yourself, to: happy, kind: own}
  happy: {ending: good, text: She has a car., debrief: Owning it worked.}
  late: {ending: poor, text: She has no car., debrief: News came too late.}
"""
)

# Owning it is right once and costly once; the best choice is not always first.
CLEAN = (
    HEADER
    + """\
  ask:
    text: The customer's car is not ready.
    choices:
      - {text: Wait until she arrives, to: late, kind: script, effects: {time: -10, trust: -2}}
      - {text: Ring her now, to: plan, kind: own, effects: {time: 5, trust: 2}}
  plan:
    text: She needs a car tomorrow and the loan cars are out.
    choices:
      - {text: Promise a hire car on the company, to: over, kind: own,
         effects: {trust: 2, cost: 120, risk: 1}}
      - {text: Ask the service manager who can approve a hire car, to: happy,
         kind: escalate, effects: {time: 10, trust: 1}}
  happy: {ending: good, text: She has a car., debrief: The right person approved it.}
  over:
    {ending: acceptable, text: She has a car; the bill comes back to you., debrief: Too high.}
  late: {ending: poor, text: She has no car., debrief: News came too late.}
"""
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text.replace("{id}", name), encoding="utf-8")
    return path


def lint_file(path: Path) -> list[str]:
    result = load_scenario_file(path)
    assert result.ok, [str(p) for p in result.problems]
    return [str(w) for w in lint_scenario(result.scenario, path.name)]


def test_a_scenario_won_by_always_taking_the_first_choice_is_flagged(tmp_path):
    warnings = lint_file(write(tmp_path, "first-wins", FIRST_WINS))
    assert warnings == [
        "first-wins.yaml:9: always taking the first choice wins: ask -> plan -> happy reaches "
        "a good ending. Put the best choice at different positions, and make some first "
        "choices costly"
    ]


def test_a_scenario_won_by_always_choosing_one_kind_is_flagged(tmp_path):
    warnings = lint_file(write(tmp_path, "own-wins", OWN_WINS))
    assert warnings == [
        "own-wins.yaml:9: always choosing an 'own' option wins: every 'own' path reaches a "
        "good ending. Add a decision where 'own' is the costly choice"
    ]


def test_a_scenario_no_constant_strategy_wins_is_quiet(tmp_path):
    assert lint_file(write(tmp_path, "clean", CLEAN)) == []


def test_a_kind_wins_only_if_every_path_of_that_kind_ends_well():
    def node(node_id, *choices, ending=None):
        return Node(
            node_id,
            "",
            [Choice(f"{node_id}-{i}", "", to, kind) for i, (to, kind) in enumerate(choices)],
            ending=ending,
        )

    nodes = {
        n.id: n
        for n in [
            node("a", ("b", "own"), ("c", "own")),
            node("b", ("good", "own")),
            node("c", ("poor", "own"), ("good", "script")),
            node("good", ending="good"),
            node("poor", ending="poor"),
        ]
    }
    scenario = Scenario("s", "t", "", "", "", "", None, "a", nodes)
    assert not kind_always_wins(scenario, "own")  # a -> c -> poor is an all-own path
    nodes["c"] = node("c", ("good", "own"), ("poor", "script"))
    assert kind_always_wins(scenario, "own")
    nodes["c"] = node("c", ("a", "own"))  # a loop never ends, so it never wins
    assert not kind_always_wins(scenario, "own")
    assert first_choice_path(scenario) == ["a", "b", "good"]


def test_a_very_long_chain_does_not_overflow():
    count = 20_000
    nodes = {
        f"n{i}": Node(f"n{i}", "", [Choice(f"c{i}", "", f"n{i + 1}", "own")]) for i in range(count)
    }
    nodes[f"n{count}"] = Node(f"n{count}", "", ending="good")
    scenario = Scenario("s", "t", "", "", "", "", None, "n0", nodes)
    assert kind_always_wins(scenario, "own")
    assert len(first_choice_path(scenario)) == count + 1


def test_content_check_prints_lint_and_loader_warnings(app, tmp_path):
    scenarios = tmp_path / "courses" / "scenarios"
    scenarios.mkdir(parents=True)
    write(scenarios, "own-wins", OWN_WINS)
    shutil.copy(CASES / "broken" / "twee-macros.twee", scenarios)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["content", "check", "--dir", str(tmp_path / "courses")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        f"{scenarios / 'own-wins.yaml'}:9: warning: always choosing an 'own' option wins: "
        "every 'own' path reaches a good ending. Add a decision where 'own' is the costly "
        "choice" in lines
    )
    macros = (
        f"{scenarios / 'twee-macros.twee'}:16: warning: story-format macro "
        "'<<set $patience to 3>>' in 'Ask' is ignored, never executed"
    )
    assert macros in lines
    strict = runner.invoke(
        args=["content", "check", "--strict", "--dir", str(tmp_path / "courses")]
    )
    assert strict.exit_code == 1
    assert macros in strict.output.splitlines()
    assert "warnings found; --strict treats warnings as errors" in strict.output


def test_content_check_is_quiet_on_a_clean_scenario(app, tmp_path):
    scenarios = tmp_path / "courses" / "scenarios"
    scenarios.mkdir(parents=True)
    write(scenarios, "clean", CLEAN)
    result = app.test_cli_runner().invoke(
        args=["content", "check", "--strict", "--dir", str(tmp_path / "courses")]
    )
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
