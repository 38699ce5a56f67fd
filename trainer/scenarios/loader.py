"""Load scenarios from YAML and Twee 3 files, and check them before anyone plays them.

Every problem carries the file and the best line number available, so `str(problem)` reads
`file:line: reason`. Problems make a file unusable; warnings are authoring advice.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from trainer.content_rules import character_problems, size_problem
from trainer.scenarios.checks import Report, check_authoring, check_graph
from trainer.scenarios.engine import Scenario
from trainer.scenarios.twee import Problem
from trainer.scenarios.twee_loader import draft_from_twee
from trainer.scenarios.yaml_loader import draft_from_yaml

SUFFIXES = (".yaml", ".twee", ".tw")  # the Twee 3 specification names both .tw and .twee
# A language variant: `refund.de.yaml` (or .twee) translates `refund.yaml` (or .twee).
VARIANT_STEM = re.compile(r"^(?P<base>.+)\.(?P<lang>[a-z]{2})$")


@dataclass
class LoadResult:
    """The outcome of loading one file: a scenario only when there are no problems."""

    scenario: Scenario | None
    problems: list[Problem]
    warnings: list[Problem]
    path: Path | None = None
    problem_types: list[str] = field(default_factory=list)  # fix log problems it practises
    variants: dict[str, Scenario] = field(default_factory=dict)  # by language code

    @property
    def ok(self) -> bool:
        return self.scenario is not None


def load_scenario_file(path: str | Path, stem: str | None = None) -> LoadResult:
    """Read and check one `.yaml`, `.twee` or `.tw` scenario file.

    `stem` is the name its id must match: by default the file's, without a language code."""
    path = Path(path)
    variant = VARIANT_STEM.match(path.stem)
    stem = stem or (variant["base"] if variant else path.stem)
    report = Report(str(path))
    text = _read_text(path, report)
    if text is None:
        draft = None
    elif path.suffix == ".yaml":
        draft = draft_from_yaml(text, stem, report)
    else:
        draft = draft_from_twee(text, stem, report)
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
    """Load every `*.yaml`, `*.twee` and `*.tw` file in `folder`, sorted by file name.

    Language variants (`name.de.yaml`) are loaded with their original, and each way their
    graph differs from it is a problem of the variant's file."""
    paths = sorted(path for suffix in SUFFIXES for path in Path(folder).glob(f"*{suffix}"))
    variants: dict[str, list[tuple[str, Path]]] = {}
    originals = []
    for path in paths:
        match = VARIANT_STEM.match(path.stem)
        if match:
            variants.setdefault(match["base"], []).append((match["lang"], path))
        else:
            originals.append(path)
    results = []
    owners: dict[str, Path] = {}
    for base in sorted(set(variants) - {p.stem for p in originals}):
        for _language, path in variants[base]:
            message = f"a translation of {base}, but there is no {base}.yaml or {base}.twee"
            results.append(LoadResult(None, [Problem(str(path), 1, message)], [], path))
    for path in originals:
        result = load_scenario_file(path)
        if result.scenario:
            _add_variants(result, variants.get(path.stem, []))
        scenario = result.scenario
        if scenario and scenario.id in owners:
            message = f"scenario id {scenario.id!r} is also used by {owners[scenario.id]}"
            result.problems.append(Problem(str(path), 1, message))
            result.scenario = None
        elif scenario:
            owners[scenario.id] = path
        results.append(result)
    return results


def _add_variants(result: LoadResult, files: list[tuple[str, Path]]) -> None:
    for language, path in files:
        variant = load_scenario_file(path, stem=result.path.stem)
        problems = variant.problems
        if variant.scenario:
            problems = [
                Problem(str(path), line, reason)
                for line, reason in graph_differences(result.scenario, variant.scenario)
            ]
            result.variants[language] = variant.scenario
        if problems:
            result.problems += problems
            result.scenario = None


def graph_differences(original: Scenario, variant: Scenario) -> list[tuple[int, str]]:
    """Return (line, reason) for each way a translated graph differs from the original's.

    A translation keeps every node and choice with the same ids, targets, kinds, effects and
    endings, so a play means the same in every language."""
    found = []
    if variant.start != original.start:
        found.append((1, f"starts at {variant.start!r}; the original starts at {original.start!r}"))
    for node_id in original.nodes.keys() - variant.nodes.keys():
        found.append(
            (
                1,
                f"node {node_id!r} is missing (original line {original.nodes[node_id].line})",
            )
        )
    for node_id, node in variant.nodes.items():
        source = original.nodes.get(node_id)
        if source is None:
            found.append((node.line, f"node {node_id!r} is not in the original"))
            continue
        if node.ending != source.ending:
            found.append(
                (
                    node.line,
                    f"node {node_id!r} ends {node.ending!r}; in the original, {source.ending!r}",
                )
            )
        mine = [(c.id, c.to, c.kind, c.effects) for c in node.choices]
        theirs = [(c.id, c.to, c.kind, c.effects) for c in source.choices]
        if [c[0] for c in mine] != [c[0] for c in theirs]:
            found.append(
                (
                    node.line,
                    f"node {node_id!r} has the choices {[c[0] for c in mine]}; "
                    f"the original has {[c[0] for c in theirs]}",
                )
            )
            continue
        for choice, got, want in zip(node.choices, mine, theirs, strict=True):
            if got != want:
                found.append(
                    (
                        choice.line or node.line,
                        f"choice {choice.id!r} of node {node_id!r} leads to {got[1]!r} "
                        f"({got[2]}, {got[3]}); in the original to {want[1]!r} "
                        f"({want[2]}, {want[3]})",
                    )
                )
    return sorted(found)
