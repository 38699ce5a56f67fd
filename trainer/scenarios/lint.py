"""Warn about scenarios that a constant strategy wins, so the learner learns a trick, not a skill.

Pure: no Flask, no database. Two strategies are tried by walking the scenario graph:
always taking the first choice in file order, and always taking a choice of one `kind`
(own, escalate, …). A strategy "wins" when it is sure to reach a good ending.
"""

from trainer.scenarios.engine import KINDS, Node, Scenario
from trainer.scenarios.twee import Problem


def lint_scenario(scenario: Scenario, file: str) -> list[Problem]:
    """Return a warning for each constant strategy that is sure to reach a good ending."""
    start = scenario.nodes.get(scenario.start)
    if start is None or not scenario.decisions:
        return []
    warnings = []
    path = first_choice_path(scenario)
    if path and scenario.nodes[path[-1]].ending == "good":
        warnings.append(
            Problem(
                file,
                start.line,
                (
                    f"always taking the first choice wins: {' -> '.join(path)} reaches a good "
                    "ending. "
                    "Put the best choice at different positions, and make some first choices costly"
                ),
            )
        )
    for kind in KINDS:
        if kind_always_wins(scenario, kind):
            article = "an" if kind[0] in "aeiou" else "a"
            warnings.append(
                Problem(
                    file,
                    start.line,
                    (
                        f"always choosing {article} '{kind}' option wins: every '{kind}' path "
                        f"reaches a good ending. Add a decision where '{kind}' is the costly "
                        "choice"
                    ),
                )
            )
    return warnings


def first_choice_path(scenario: Scenario) -> list[str]:
    """Return the node ids visited by always taking the first choice (stopping at a loop)."""
    path, seen, node = [], set(), scenario.nodes.get(scenario.start)
    while node is not None and node.id not in seen:
        path.append(node.id)
        seen.add(node.id)
        if node.is_ending or not node.choices:
            break
        node = scenario.nodes.get(node.choices[0].to)
    return path


def kind_always_wins(scenario: Scenario, kind: str) -> bool:
    """Return True if taking only `kind` choices is possible at every step and always ends well.

    Works through the graph without recursion, each node once. A node met again while its
    own answer is pending is part of a loop, which never reaches an ending: it counts as a loss.
    """
    nodes = scenario.nodes
    known: dict[str, bool | None] = {}  # None: pending

    def options(node: Node) -> list[str]:
        return [c.to for c in node.choices if c.kind == kind and c.to in nodes]

    stack = [scenario.start]
    while stack:
        node = nodes[stack[-1]]
        if known.get(node.id) is not None:
            stack.pop()
        elif node.is_ending:
            known[node.id] = node.ending == "good"
            stack.pop()
        elif node.id not in known:
            known[node.id] = None
            stack.extend(target for target in options(node) if target not in known)
        else:
            targets = options(node)
            known[node.id] = bool(targets) and all(known.get(t) is True for t in targets)
            stack.pop()
    return known.get(scenario.start) is True
