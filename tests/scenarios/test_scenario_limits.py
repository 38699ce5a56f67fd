"""Hostile scenario files: reported as `file:line: reason`, never a traceback (issue 16)."""

from pathlib import Path

import pytest

from trainer.content_rules import MAX_FILE_BYTES, MAX_NESTING
from trainer.scenarios.loader import load_scenario_file, load_scenarios
from trainer.scenarios.twee import parse_twee

CASES = Path(__file__).parent / "cases"
VALID_YAML = (CASES / "valid" / "refund-no-receipt.yaml").read_text(encoding="utf-8")
VALID_TWEE = (CASES / "twee" / "refund-no-receipt.twee").read_text(encoding="utf-8")


def problems(path):
    result = load_scenario_file(path)
    assert result.scenario is None
    return [(p.line, p.message) for p in result.problems]


@pytest.mark.parametrize("suffix", [".yaml", ".twee"])
@pytest.mark.parametrize(
    ("char", "name"), [("\x0b", "vertical tab"), ("\u2028", "line separator"), ("\x00", "NUL")]
)
def test_odd_characters_are_refused_at_their_line(tmp_path, suffix, char, name):
    text = VALID_YAML if suffix == ".yaml" else VALID_TWEE
    line = 5
    lines = text.split("\n")
    lines[line - 1] = lines[line - 1] + char + char
    path = tmp_path / f"refund-no-receipt{suffix}"
    path.write_text("\n".join(lines), encoding="utf-8")

    assert problems(path) == [
        (
            line,
            f"invisible {name} (U+{ord(char):04X}) is not allowed; "
            "delete it or use a plain line break",
        )
    ]


@pytest.mark.parametrize(
    "deep", ["[" * 2000 + "]" * 2000, "- " * 2000 + "x", "{a: " * 2000 + "}" * 2000]
)
def test_yaml_nested_too_deep_is_reported_at_its_line(tmp_path, deep):
    path = tmp_path / "refund-no-receipt.yaml"
    path.write_text(VALID_YAML.replace("summary:", f"extra:\n  {deep}\nsummary:", 1))

    assert problems(path) == [
        (10, f"lists and mappings are nested more than {MAX_NESTING} levels deep")
    ]


def test_twee_metadata_and_story_data_nested_too_deep_are_discarded_with_a_warning():
    deep = '{"a": ' * 2000 + "1" + "}" * 2000
    text = VALID_TWEE.replace('{"position":"100,100"}', deep)
    text = text.replace('"start": "counter"', f'"start": "counter", "deep": {deep}')

    story = parse_twee(text, "s.twee")

    assert [(w.line, w.message) for w in story.warnings] == [
        (23, f"the metadata of 'counter' is nested more than {MAX_NESTING} levels deep; discarded"),
        (7, f"StoryData is nested more than {MAX_NESTING} levels deep; discarded"),
        (7, 'no IFID: StoryData should hold an "ifid"'),
    ]
    assert story.passage("counter").metadata is None


def test_twee_metadata_within_the_limit_and_brackets_in_strings_still_parse():
    nested = '{"a": ' * MAX_NESTING + '"[[{{"' + "}" * MAX_NESTING
    text = VALID_TWEE.replace('{"position":"100,100"}', nested)

    story = parse_twee(text, "s.twee")

    assert story.warnings == []
    assert story.passage("counter").metadata["a"]["a"]


def test_an_oversized_scenario_is_refused_before_parsing(tmp_path):
    path = tmp_path / "refund-no-receipt.yaml"
    path.write_text(VALID_YAML + "#" * MAX_FILE_BYTES)

    assert problems(path) == [
        (
            1,
            f"the file is larger than the limit of "
            f"{MAX_FILE_BYTES // 1024} KB; split it into smaller files",
        )
    ]


def test_tw_files_are_scenarios_too(tmp_path):
    (tmp_path / "refund-no-receipt.tw").write_text(VALID_TWEE)
    (tmp_path / "notes.txt").write_text("not a scenario")

    [result] = load_scenarios(tmp_path)

    assert result.ok, result.problems
    assert result.path.name == "refund-no-receipt.tw"
    assert result.scenario.id == "refund-no-receipt"
