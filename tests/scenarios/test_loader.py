import dataclasses
import shutil
from pathlib import Path

import pytest

from trainer.scenarios.loader import Problem, load_scenario_file, load_scenarios

CASES = Path(__file__).parent / "cases"
BROKEN = CASES / "broken"
VALID_YAML = CASES / "valid" / "refund-no-receipt.yaml"
VALID_TWEE = CASES / "twee" / "refund-no-receipt.twee"


# One fixture per rule: (file in cases/broken, line, part of the message).
BROKEN_CASES = [
    ("syntax-error.yaml", 16, "YAML syntax error: expected ',' or '}'"),
    ("missing-field.yaml", 1, "missing required field 'metric'"),
    ("id-mismatch.yaml", 1, "id 'car-not-ready' does not match the file name 'id-mismatch'"),
    ("unknown-meter.yaml", 15, "unknown meter 'mood'"),
    ("non-integer-effect.yaml", 15, "effect 'trust' in choice 1 of 'ask' must be an integer"),
    ("meter-out-of-range.yaml", 17, "meter out of range: cost +5000"),
    ("unknown-kind.yaml", 14, "unknown kind 'heroic'"),
    ("missing-target.yaml", 21, "missing target: choice 3 of 'ask' leads to 'stock-room'"),
    ("unreachable-node.yaml", 28, "unreachable node 'forgotten'"),
    ("dead-end.yaml", 32, "dead end: 'waiting' has no choices and is not an ending"),
    ("loop-no-way-out.yaml", 32, "loop with no way out: chase -> office -> chase"),
    ("ending-no-rating.yaml", 24, "ending 'meh' has no rating"),
    ("ending-invalid-rating.yaml", 25, "invalid ending rating 'great'"),
    ("ending-with-choices.yaml", 24, "ending 'fine' also has choices"),
    ("duplicate-key.yaml", 28, "duplicate key 'meh' (first at line 24)"),
    ("start-missing.yaml", 7, "start node 'greeting' does not exist"),
    ("duplicate-choice-id.yaml", 17, "duplicate choice id 'same' in 'ask'"),
    ("twee-duplicate-passage.twee", 29, "duplicate passage name 'Meh' (first at line 24)"),
    ("twee-unknown-setter-token.twee", 16, "unknown setter token 'trust=1'"),
    ("twee-missing-kind.twee", 17, "missing required field 'kind' in choice 2 of 'Ask'"),
    ("twee-meter-out-of-range.twee", 17, "meter out of range: time +300"),
    ("twee-non-integer-effect.twee", 16, "effect 'trust' in choice 1 of 'Ask' must be an integer"),
    ("twee-invalid-ending-tag.twee", 24, "invalid ending rating 'great'"),
    ("twee-missing-debrief.twee", 24, "missing required field 'debrief' in ending 'Meh'"),
    ("twee-no-scenario-info.twee", 1, "missing ScenarioInfo passage"),
    ("twee-missing-target.twee", 18, "missing target: choice 3 of 'Ask' leads to 'Stock room'"),
    ("twee-ending-with-links.twee", 22, "ending 'Fine' also has choices"),
    ("twee-untagged-ending.twee", 24, "ending 'Meh' has no rating: tag it ending-good"),
    ("twee-dead-end.twee", 30, "dead end: 'Waiting' has no choices"),
]

# Files that load, but with a warning: (file, line, part of the message).
WARNING_CASES = [
    ("few-choices.yaml", 28, "decision 'queue' has fewer than 2 choices"),
    ("preachy-feedback.yaml", 16, "feedback starts with 'Correct'"),
    ("dominant-option.yaml", 9, "option 'ask-1' at 'ask' beats every other option on every axis"),
    ("dominant-option.yaml", 1, "no poor ending"),
    ("twee-macros.twee", 15, "story-format macro '(set: $asked to true)' in 'Ask' is ignored"),
    ("twee-macros.twee", 16, "story-format macro '<<set $patience to 3>>' in 'Ask' is ignored"),
    ("twee-macros.twee", 30, "passage 'UserScript' tagged script is ignored, never executed"),
]


@pytest.mark.parametrize(("name", "line", "message"), BROKEN_CASES)
def test_each_rule_reports_its_problem_and_line(name, line, message):
    result = load_scenario_file(BROKEN / name)
    assert result.scenario is None and not result.ok
    assert [(p.line, message in p.message) for p in result.problems] == [(line, True)], [
        str(p) for p in result.problems
    ]
    assert str(result.problems[0]).startswith(f"{BROKEN / name}:{line}: ")


def test_every_broken_fixture_is_covered():
    covered = {name for name, _, _ in BROKEN_CASES + WARNING_CASES}
    assert covered == {path.name for path in BROKEN.iterdir()}


@pytest.mark.parametrize(("name", "line", "message"), WARNING_CASES)
def test_authoring_advice_is_a_warning(name, line, message):
    result = load_scenario_file(BROKEN / name)
    assert result.problems == []
    assert result.ok
    assert any(w.line == line and message in w.message for w in result.warnings), [
        str(w) for w in result.warnings
    ]


def test_syntax_error_names_where_the_construct_started():
    problem = load_scenario_file(BROKEN / "syntax-error.yaml").problems[0]
    assert "flow mapping on line 15" in problem.message


def test_macros_are_removed_from_the_text():
    scenario = load_scenario_file(BROKEN / "twee-macros.twee").scenario
    assert scenario.nodes["Ask"].text == "The customer asks for help."
    assert "UserScript" not in scenario.nodes


def test_problem_formats_as_file_line_reason():
    assert str(Problem("a.yaml", 3, "bad")) == "a.yaml:3: bad"
    assert str(Problem("a.yaml", None, "bad")) == "a.yaml: bad"


def test_valid_yaml_loads_cleanly():
    result = load_scenario_file(VALID_YAML)
    assert (result.problems, result.warnings) == ([], [])
    scenario = result.scenario
    assert scenario.id == "refund-no-receipt"
    assert scenario.start == "counter"
    assert list(scenario.nodes) == [
        "counter",
        "credit",
        "manager",
        "cash",
        "happy",
        "grumble",
        "audit",
    ]
    counter = scenario.nodes["counter"]
    assert counter.line == 12
    assert counter.text.endswith("Two people are queuing behind her.")
    assert [c.id for c in counter.choices] == ["credit", "manager", "cash"]
    assert counter.choices[0].line == 17
    assert counter.choices[0].reaction == "She thinks about it and puts her purse away."
    assert counter.choices[1].reaction is None
    assert [c.id for c in scenario.nodes["credit"].choices] == ["credit-1", "credit-2"]
    assert scenario.nodes["happy"].debrief.startswith("**Principle:**")
    assert len(scenario.decisions) == 4 and len(scenario.endings) == 3


def test_valid_twee_loads_cleanly():
    result = load_scenario_file(VALID_TWEE)
    assert (result.problems, result.warnings) == ([], [])
    counter = result.scenario.nodes["counter"]
    assert counter.line == 23
    assert [c.line for c in counter.choices] == [27, 28, 29]


def without_lines_and_reactions(scenario):
    data = dataclasses.asdict(scenario)
    for node in data["nodes"].values():
        node["line"] = 0
        for choice in node["choices"]:
            choice["line"] = 0
            choice["reaction"] = None
    return data


def test_yaml_and_twee_twins_load_to_the_same_scenario():
    from_yaml = load_scenario_file(VALID_YAML).scenario
    from_twee = load_scenario_file(VALID_TWEE).scenario
    assert without_lines_and_reactions(from_yaml) == without_lines_and_reactions(from_twee)
    # Twee has nowhere to put a reaction.
    assert all(c.reaction is None for n in from_twee.nodes.values() for c in n.choices)


def test_load_scenarios_reads_yaml_and_twee_and_rejects_a_reused_id(tmp_path):
    shutil.copy(VALID_YAML, tmp_path)
    shutil.copy(VALID_TWEE, tmp_path)
    (tmp_path / "notes.txt").write_text("not a scenario")
    results = load_scenarios(tmp_path)
    assert [r.path.name for r in results] == ["refund-no-receipt.twee", "refund-no-receipt.yaml"]
    assert results[0].ok
    assert not results[1].ok
    assert "scenario id 'refund-no-receipt' is also used by" in results[1].problems[0].message


def test_empty_and_non_mapping_yaml(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing here\n")
    assert [p.message for p in load_scenario_file(empty).problems] == ["the file is empty"]
    listing = tmp_path / "listing.yaml"
    listing.write_text("- a\n- b\n")
    assert [p.message for p in load_scenario_file(listing).problems] == [
        "expected a mapping of scenario fields at the top level"
    ]


def test_empty_twee_file(tmp_path):
    empty = tmp_path / "empty.twee"
    empty.write_text("")
    result = load_scenario_file(empty)
    assert [p.message for p in result.problems] == ["no passages: not a scenario"]


def test_unsupported_extension(tmp_path):
    other = tmp_path / "scenario.json"
    other.write_text("{}")
    assert "unsupported file type '.json'" in load_scenario_file(other).problems[0].message


def test_missing_file_is_a_problem_not_a_crash(tmp_path):
    result = load_scenario_file(tmp_path / "gone.yaml")
    assert result.problems[0].message.startswith("cannot read the file")


def test_unknown_fields_warn(tmp_path):
    text = VALID_YAML.read_text().replace("start: counter", "start: counter\nowner: Kim")
    path = tmp_path / "refund-no-receipt.yaml"
    path.write_text(text)
    result = load_scenario_file(path)
    assert result.ok
    assert [(w.line, w.message) for w in result.warnings] == [
        (11, "unknown field 'owner' in the scenario is ignored")
    ]


def test_effects_that_are_booleans_or_text_are_not_integers(tmp_path):
    text = VALID_YAML.read_text().replace(
        "effects: {trust: -1, time: 20}", "effects: {trust: yes, time: '20'}"
    )
    path = tmp_path / "refund-no-receipt.yaml"
    path.write_text(text)
    messages = [p.message for p in load_scenario_file(path).problems]
    assert messages == [
        "effect 'trust' in choice 2 of 'counter' must be an integer, not True",
        "effect 'time' in choice 2 of 'counter' must be an integer, not '20'",
    ]


def test_indistinguishable_choices_warn(tmp_path):
    text = (
        VALID_YAML.read_text()
        .replace(
            "effects: {trust: -2, confidence: -1}", "effects: {trust: 1, time: 5, confidence: 1}"
        )
        .replace("to: grumble\n        kind: script", "to: happy\n        kind: script")
    )
    path = tmp_path / "refund-no-receipt.yaml"
    path.write_text(text)
    result = load_scenario_file(path)
    assert any(
        "choices 'credit-1' and 'credit-2' lead to the same node" in w.message
        for w in result.warnings
    )


def test_loop_with_a_way_out_is_only_a_warning(tmp_path):
    text = VALID_YAML.read_text().replace(
        "to: grumble\n        kind: escalate", "to: counter\n        kind: escalate"
    )
    path = tmp_path / "refund-no-receipt.yaml"
    path.write_text(text)
    result = load_scenario_file(path)
    assert result.problems == []
    assert [w.message for w in result.warnings] == [
        "loop: counter -> manager -> counter can repeat; make sure it is intended"
    ]


def test_node_ids_whose_slugs_clash(tmp_path):
    twee = (
        VALID_TWEE.read_text()
        .replace("->grumble]", "->Grumble]")
        .replace(":: grumble [", ":: Grumble [")
        + "\n:: GRUMBLE [ending-poor]\nAgain.\n---\nDebrief.\n"
    )
    path = tmp_path / "refund-no-receipt.twee"
    path.write_text(twee)
    problems = [p.message for p in load_scenario_file(path).problems]
    assert "node ids 'Grumble' and 'GRUMBLE' share the slug 'grumble'" in problems


def test_nested_yaml_aliases_are_not_expanded(tmp_path):
    rows = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for name, previous in zip("bcdefghi", "abcdefgh", strict=True):
        rows.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(rows) + "\n")
    result = load_scenario_file(path)  # 9**9 strings if expanded
    assert "missing required field 'id' in the scenario" in [p.message for p in result.problems]
