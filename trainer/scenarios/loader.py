"""Load scenarios from YAML and Twee 3 files, and check them before anyone plays them.

Every problem carries the file and the best line number available, so `str(problem)` reads
`file:line: reason`. Problems make a file unusable; warnings are authoring advice.
"""

from dataclasses import dataclass, field
from pathlib import Path

from trainer.content_rules import character_problems, size_problem
from trainer.scenarios.checks import Report, check_authoring, check_graph
from trainer.scenarios.engine import Scenario
from trainer.scenarios.twee import Problem
from trainer.scenarios.twee_loader import draft_from_twee
from trainer.scenarios.yaml_loader import draft_from_yaml

SUFFIXES = (".yaml", ".twee", ".tw")  # the Twee 3 specification names both .tw and .twee


@dataclass
class LoadResult:
    """The outcome of loading one file: a scenario only when there are no problems."""

    scenario: Scenario | None
    problems: list[Problem]
    warnings: list[Problem]
    path: Path | None = None
    problem_types: list[str] = field(default_factory=list)  # fix log problems it practises

    @property
    def ok(self) -> bool:
        return self.scenario is not None


def load_scenario_file(path: str | Path) -> LoadResult:
    """Read and check one `.yaml`, `.twee` or `.tw` scenario file."""
    path = Path(path)
    report = Report(str(path))
    text = _read_text(path, report)
    if text is None:
        draft = None
    elif path.suffix == ".yaml":
        draft = draft_from_yaml(text, path.stem, report)
    else:
        draft = draft_from_twee(text, path.stem, report)
    if draft:
        check_graph(draft, report)
        check_authoring(draft, report)
    scenario = draft.scenario if draft and not report.problems else None
    return LoadResult(
        scenario, report.problems, report.warnings, path, draft.problem_types if draft else []
    )


def _read_text(path: Path, report: Report) -> str | None:
    """Return the file's text, or None after reporting why it cannot be parsed."""
    if path.suffix not in SUFFIXES:
        report.error(1, f"unsupported file type {path.suffix!r} (expected .yaml, .twee or .tw)")
        return None
    try:
        too_big = size_problem(path.stat().st_size)
        if too_big:
            report.error(1, too_big)
            return None
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        report.error(1, f"cannot read the file: {error}")
        return None
    for line, reason in character_problems(text):
        report.error(line, reason)
    return None if report.problems else text


def load_scenarios(folder: str | Path) -> list[LoadResult]:
    """Load every `*.yaml`, `*.twee` and `*.tw` file in `folder`, sorted by file name."""
    paths = sorted(path for suffix in SUFFIXES for path in Path(folder).glob(f"*{suffix}"))
    results = []
    owners: dict[str, Path] = {}
    for path in paths:
        result = load_scenario_file(path)
        scenario = result.scenario
        if scenario and scenario.id in owners:
            message = f"scenario id {scenario.id!r} is also used by {owners[scenario.id]}"
            result.problems.append(Problem(str(path), 1, message))
            result.scenario = None
        elif scenario:
            owners[scenario.id] = path
        results.append(result)
    return results
