"""Checks shared by both scenario formats: ids, targets, kinds, ratings, effects, the graph
(reachable, no loops, endings) and the authoring advice."""

import re
from dataclasses import dataclass, field

from trainer.content_rules import problem_types_problem
from trainer.scenarios.engine import (
    EFFECT_RANGES,
    ENDING_RANK,
    ENDINGS,
    KINDS,
    METERS,
    Choice,
    Node,
    Scenario,
    choice_outlook,
    slugify,
)
from trainer.scenarios.twee import Problem

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PREACHY_START = re.compile(r"^\W*(correct|incorrect|you should)\b", re.IGNORECASE)


@dataclass
class Report:
    file: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def error(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def warn(self, line: int | None, message: str) -> None:
        self.warnings.append(Problem(self.file, line, message))


@dataclass
class Draft:
    """A scenario as read, plus what the checks need to avoid reporting one fault twice."""

    scenario: Scenario
    start_line: int
    # Nodes meant as endings, even when their rating is missing or invalid.
    terminals: set[str]
    problem_types: list[str] = field(default_factory=list)


def check_scenario_id(scenario_id: str, stem: str, line: int, report: Report) -> None:
    if not scenario_id:
        return
    if not SLUG.match(scenario_id):
        report.error(line, f"id {scenario_id!r} is not a slug (lowercase letters, digits, -)")
    elif scenario_id != stem:
        report.error(line, f"id {scenario_id!r} does not match the file name {stem!r}")


def check_target(target: str, node_ids: set[str], line: int, where: str, report: Report) -> None:
    if target not in node_ids:
        report.error(line, f"missing target: {where} leads to {target!r}, which does not exist")


def read_kind(value, line: int, where: str, report: Report) -> str:
    if value is None or value == "":
        report.error(line, f"missing required field 'kind' in {where}")
        return ""
    if value not in KINDS:
        expected = ", ".join(KINDS)
        report.error(line, f"unknown kind {value!r} in {where} (expected one of {expected})")
        return ""
    return value


def read_choice_id(value, node_id: str, index: int, line: int, report: Report) -> str:
    default = f"{slugify(node_id)}-{index}"
    if value is None:
        return default
    if not isinstance(value, str) or not SLUG.match(value):
        report.error(line, f"choice id {value!r} is not a slug (lowercase letters, digits, -)")
        return default
    return value


def read_rating(value, node_id: str, line: int, report: Report) -> str | None:
    if value is None or value == "":
        report.error(line, f"ending {node_id!r} has no rating (expected good, acceptable or poor)")
        return None
    if value not in ENDINGS:
        report.error(
            line,
            f"invalid ending rating {value!r} at {node_id!r} (expected good, acceptable or poor)",
        )
        return None
    return value


def read_effects(items: list[tuple], where: str, report: Report) -> dict[str, int]:
    """Check (meter, value, line) items and return the valid effects in meter order."""
    effects: dict[str, int] = {}
    for meter, value, line in items:
        if meter not in METERS:
            report.error(
                line, f"unknown meter {meter!r} in {where} (expected one of {', '.join(METERS)})"
            )
        elif isinstance(value, bool) or not isinstance(value, int):
            report.error(line, f"effect {meter!r} in {where} must be an integer, not {value!r}")
        elif meter in effects:
            report.error(line, f"effect {meter!r} given twice in {where}")
        else:
            low, high = EFFECT_RANGES[meter]
            if low <= value <= high:
                effects[meter] = value
            else:
                report.error(
                    line,
                    f"meter out of range: {meter} {value:+d} in {where} (allowed {low}..{high})",
                )
    return {meter: effects[meter] for meter in METERS if meter in effects}


def check_feedback(text: str | None, line: int, report: Report) -> None:
    match = PREACHY_START.match(text or "")
    if match:
        report.warn(
            line,
            f"feedback starts with {match.group(1)!r}: show what happens next instead of grading",
        )


def check_graph(draft: Draft, report: Report) -> None:
    """Report unreachable nodes, dead ends and loops that never reach an ending."""
    scenario, terminals = draft.scenario, draft.terminals
    nodes = scenario.nodes
    successors = {
        node_id: [choice.to for choice in node.choices if choice.to in nodes]
        for node_id, node in nodes.items()
    }
    for node_id, node in nodes.items():
        if node_id not in terminals and not node.choices:
            report.error(node.line, f"dead end: {node_id!r} has no choices and is not an ending")

    if scenario.start not in nodes:
        if scenario.start:
            report.error(draft.start_line, f"start node {scenario.start!r} does not exist")
        return
    reachable = _reach(successors, [scenario.start])
    for node_id, node in nodes.items():
        if node_id not in reachable:
            report.error(node.line, f"unreachable node {node_id!r}: no path leads to it")

    # Dead ends and missing targets count as ways out: they are reported on their own.
    ways_out = [
        node_id
        for node_id, node in nodes.items()
        if node_id in terminals
        or not node.choices
        or any(choice.to not in nodes for choice in node.choices)
    ]
    predecessors: dict[str, list[str]] = {node_id: [] for node_id in nodes}
    for node_id, targets in successors.items():
        for target in targets:
            predecessors[target].append(node_id)
    can_finish = _reach(predecessors, ways_out)

    for loop in _loops(successors, reachable):
        first = nodes[loop[0]]
        path = " -> ".join([*loop, loop[0]])
        if any(node_id in can_finish for node_id in loop):
            report.warn(first.line, f"loop: {path} can repeat; make sure it is intended")
        else:
            report.error(first.line, f"loop with no way out: {path} never reaches an ending")


def _reach(edges: dict[str, list[str]], starts: list[str]) -> set[str]:
    seen, todo = set(starts), list(starts)
    while todo:
        for target in edges[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _loops(successors: dict[str, list[str]], within: set[str]) -> list[list[str]]:
    """Return the groups of nodes that can reach each other (cycles), in file order."""
    after = {node_id: _reach(successors, successors[node_id]) for node_id in successors}
    loops, placed = [], set()
    for node_id in successors:
        if node_id in placed or node_id not in within or node_id not in after[node_id]:
            continue
        loop = [other for other in after[node_id] if node_id in after[other]]
        loop.sort(key=list(successors).index)
        placed.update(loop)
        loops.append(loop)
    return loops


def check_authoring(draft: Draft, report: Report) -> None:
    """Give the §7 authoring advice and catch clashing ids."""
    scenario = draft.scenario
    outlook = choice_outlook(scenario)
    slugs: dict[str, str] = {}
    for node in scenario.nodes.values():
        if node.slug in slugs:
            report.error(
                node.line,
                f"node ids {slugs[node.slug]!r} and {node.id!r} share the slug {node.slug!r}",
            )
        slugs.setdefault(node.slug, node.id)
        if len(node.choices) == 1:
            report.warn(node.line, f"decision {node.id!r} has fewer than 2 choices")
        _check_choices(node, outlook, report)

    present = {node.ending for node in scenario.endings}
    for ending in ENDINGS:
        if present and ending not in present:
            report.warn(1, f"no {ending} ending: good, acceptable and poor should all be reachable")


def _check_choices(node: Node, outlook: dict, report: Report) -> None:
    seen_ids: set[str] = set()
    for index, choice in enumerate(node.choices):
        if choice.id in seen_ids:
            report.error(choice.line, f"duplicate choice id {choice.id!r} in {node.id!r}")
        seen_ids.add(choice.id)
        for other in node.choices[index + 1 :]:
            if other.to == choice.to and other.effects == choice.effects:
                report.warn(
                    other.line,
                    f"choices {choice.id!r} and {other.id!r} lead to the same node "
                    "with the same effects",
                )

    scores = [_axis_scores(choice, outlook[(node.id, choice.id)]) for choice in node.choices]
    for index, (choice, score) in enumerate(zip(node.choices, scores, strict=True)):
        others = scores[:index] + scores[index + 1 :]
        if others and all(_beats(score, other) for other in others):
            report.warn(
                node.line,
                f"option {choice.id!r} at {node.id!r} beats every other option on every axis; "
                "give the others a real upside",
            )


def _axis_scores(choice: Choice, outlook: str | None) -> tuple[int, ...]:
    """Return the choice's effects oriented so that larger is better, plus its outlook."""
    effect = choice.effects.get
    return (
        effect("trust", 0),
        effect("confidence", 0),
        -effect("time", 0),
        -effect("cost", 0),
        -effect("risk", 0),
        ENDING_RANK[outlook],
    )


def _beats(score: tuple[int, ...], other: tuple[int, ...]) -> bool:
    """Return True if `score` is at least as good on every axis and better on one."""
    return all(a >= b for a, b in zip(score, other, strict=True)) and score != other


def read_problem_types(value, declared: bool, line: int, report: Report) -> list[str]:
    """Return the declared problem types, or report why they cannot be used."""
    if not declared:
        return []
    why = problem_types_problem(value)
    if why:
        report.error(line, why)
        return []
    return list(value)
