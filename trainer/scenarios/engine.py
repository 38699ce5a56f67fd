"""Play branching scenarios: state, meters, outcomes and xAPI statements.

Pure Python: no Flask, no database. Scenarios come from `loader.py`.
"""

import random
import re
from dataclasses import dataclass, field

METERS = ("trust", "time", "cost", "risk", "confidence")
KINDS = ("own", "escalate", "script", "bend", "deflect")
ENDINGS = ("good", "acceptable", "poor")

# Allowed effect of a single choice, per meter (inclusive).
EFFECT_RANGES = {
    "trust": (-5, 5),
    "confidence": (-5, 5),
    "risk": (-3, 3),
    "time": (-120, 240),
    "cost": (-500, 2000),
}
RISK_MIN, RISK_MAX = 0, 3

# Larger is better; an unfinished play ranks below every ending.
ENDING_RANK = {None: 0, "poor": 1, "acceptable": 2, "good": 3}

VERB_ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
VERB_COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
ACTIVITY_INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"
ACTIVITY_SIMULATION = "http://adlnet.gov/expapi/activities/simulation"


def slugify(name: str) -> str:
    """Return a lowercase URL-safe slug for a node or scenario name."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "node"


@dataclass
class Choice:
    id: str
    text: str
    to: str
    kind: str
    effects: dict[str, int] = field(default_factory=dict)
    reaction: str | None = None
    line: int = 0


@dataclass
class Node:
    id: str
    text: str
    choices: list[Choice] = field(default_factory=list)
    ending: str | None = None
    debrief: str | None = None
    line: int = 0

    @property
    def is_ending(self) -> bool:
        return self.ending is not None

    @property
    def slug(self) -> str:
        return slugify(self.id)


@dataclass
class Scenario:
    id: str
    title: str
    setting: str
    metric: str
    action: str
    authority: str
    summary: str | None
    start: str
    nodes: dict[str, Node]

    @property
    def decisions(self) -> list[Node]:
        return [node for node in self.nodes.values() if node.choices]

    @property
    def endings(self) -> list[Node]:
        return [node for node in self.nodes.values() if node.is_ending]


@dataclass
class State:
    node_id: str
    meters: dict[str, int]
    path: list[tuple[str, str]] = field(default_factory=list)
    ending: str | None = None

    @property
    def finished(self) -> bool:
        return self.ending is not None


@dataclass(frozen=True)
class WeakChoice:
    """A decision on a path where another option could still reach a better ending."""

    node_id: str
    choice_id: str
    outlook: str | None
    best: str


class PlayError(ValueError):
    """A choice that cannot be made in the current state."""


def start(scenario: Scenario) -> State:
    """Return the state at the start node with every meter at 0."""
    node = scenario.nodes[scenario.start]
    return State(node_id=node.id, meters=dict.fromkeys(METERS, 0), ending=node.ending)


def choose(scenario: Scenario, state: State, choice_index: int) -> State:
    """Return the state after taking the choice at `choice_index` (0-based)."""
    if state.finished:
        raise PlayError(f"the scenario has ended at {state.node_id!r}; no more choices")
    node = scenario.nodes[state.node_id]
    valid = isinstance(choice_index, int) and not isinstance(choice_index, bool)
    if not valid or not 0 <= choice_index < len(node.choices):
        raise PlayError(
            f"invalid choice {choice_index!r} at {node.id!r}: expected 0..{len(node.choices) - 1}"
        )
    choice = node.choices[choice_index]
    meters = apply_effects(state.meters, choice.effects)
    target = scenario.nodes[choice.to]
    return State(
        node_id=target.id,
        meters=meters,
        path=[*state.path, (node.id, choice.id)],
        ending=target.ending,
    )


def choice_order(node: Node, seed: int | None) -> list[int]:
    """Return the indexes of `node`'s choices in the order one play shows them.

    The order depends only on the play's seed and the decision, so a resumed play, its step
    pages and any later look at it show the same order. No seed: file order.
    """
    order = list(range(len(node.choices)))
    if seed is not None:
        random.Random(f"{seed}:{node.id}").shuffle(order)
    return order


def shown_choices(node: Node, seed: int | None) -> list[tuple[int, Choice]]:
    """Return (index in the file, choice) pairs in the order the play shows them."""
    return [(index, node.choices[index]) for index in choice_order(node, seed)]


def choice_index(node: Node, choice_id: str) -> int:
    """Return the file index of the choice with this id at `node`, or raise PlayError."""
    for index, choice in enumerate(node.choices):
        if choice.id == choice_id:
            return index
    raise PlayError(f"no choice {choice_id!r} at {node.id!r}")


def apply_effects(meters: dict[str, int], effects: dict[str, int]) -> dict[str, int]:
    """Return new meter totals after adding `effects`, with risk clamped to 0..3."""
    totals = {meter: meters.get(meter, 0) + effects.get(meter, 0) for meter in METERS}
    totals["risk"] = min(max(totals["risk"], RISK_MIN), RISK_MAX)
    return totals


def playthrough(scenario: Scenario, choices: list[int | str]) -> State:
    """Play a list of choices from the start and return the final state.

    Each choice is named by its id or its exact text (what golden playthroughs use, so they
    do not depend on the order of choices in the file), or by its 0-based index in the file.
    """
    state = start(scenario)
    for pick in choices:
        if isinstance(pick, str) and not state.finished:
            node = scenario.nodes[state.node_id]
            matches = [i for i, c in enumerate(node.choices) if pick in (c.id, c.text.strip())]
            if not matches:
                raise PlayError(f"no choice with the id or text {pick!r} at {node.id!r}")
            pick = matches[0]
        state = choose(scenario, state, pick)
    return state


def rank_result(ending: str | None, meters: dict[str, int]) -> tuple[int, ...]:
    """Return a sort key for a result: larger is better, so `max()` picks the best attempt.

    Ending class first (good > acceptable > poor), then higher trust and confidence,
    then lower time, cost and risk.
    """
    return (
        ENDING_RANK[ending],
        meters.get("trust", 0),
        meters.get("confidence", 0),
        -meters.get("time", 0),
        -meters.get("cost", 0),
        -meters.get("risk", 0),
    )


def ownership_rate(scenario: Scenario, path: list[tuple[str, str]]) -> float | None:
    """Return the share of decisions on `path` whose choice kind is `own` (None if no decisions)."""
    if not path:
        return None
    kinds = [_find_choice(scenario, node_id, choice_id).kind for node_id, choice_id in path]
    return kinds.count("own") / len(kinds)


def best_reachable_endings(scenario: Scenario) -> dict[str, str | None]:
    """Map each node id to the best ending class reachable from it (None if none is)."""
    best = {}
    for node_id in scenario.nodes:
        ranks = [
            scenario.nodes[other].ending
            for other in _reachable(scenario, node_id)
            if scenario.nodes[other].is_ending
        ]
        best[node_id] = max(ranks, key=ENDING_RANK.__getitem__, default=None)
    return best


def choice_outlook(scenario: Scenario) -> dict[tuple[str, str], str | None]:
    """Map (node_id, choice_id) to the best ending class reachable after taking that choice."""
    best = best_reachable_endings(scenario)
    return {
        (node.id, choice.id): best.get(choice.to)
        for node in scenario.nodes.values()
        for choice in node.choices
    }


def weak_choices(scenario: Scenario, path: list[tuple[str, str]]) -> list[WeakChoice]:
    """Return the decisions on `path` whose choice shut out a better ending than another option.

    These are the decision points worth re-serving later as one-decision practice.
    """
    outlook = choice_outlook(scenario)
    weak = []
    for node_id, choice_id in path:
        node = scenario.nodes[node_id]
        _find_choice(scenario, node_id, choice_id)
        options = [outlook[(node_id, choice.id)] for choice in node.choices]
        best = max(options, key=ENDING_RANK.__getitem__)
        chosen = outlook[(node_id, choice_id)]
        if ENDING_RANK[chosen] < ENDING_RANK[best]:
            weak.append(WeakChoice(node_id, choice_id, chosen, best))
    return weak


def xapi_answered(
    scenario: Scenario,
    node: Node,
    choice: Choice,
    state_after: State,
    actor_name: str,
    registration: str,
    base_iri: str,
    *,
    course_id: str | None = None,
    language: str = "en-US",
) -> dict:
    """Return the xAPI `answered` statement for one decision.

    `result.extensions` holds the choice's effect on each meter under
    `<base>/xapi/ext/<meter>` and the running totals after it under `<base>/xapi/ext/totals`.
    No `correctResponsesPattern`: no option is simply right.
    """
    base = base_iri.rstrip("/")
    scenario_iri = f"{base}/xapi/scenario/{scenario.id}"
    extensions = {f"{base}/xapi/ext/{meter}": choice.effects.get(meter, 0) for meter in METERS}
    extensions[f"{base}/xapi/ext/totals"] = dict(state_after.meters)
    return {
        "actor": _actor(base, actor_name),
        "verb": {"id": VERB_ANSWERED, "display": {language: "answered"}},
        "object": {
            "id": f"{scenario_iri}/node/{node.slug}",
            "definition": {
                "type": ACTIVITY_INTERACTION,
                "interactionType": "choice",
                "choices": [
                    {"id": option.id, "description": {language: option.text}}
                    for option in node.choices
                ],
            },
        },
        "result": {"response": choice.id, "extensions": extensions},
        "context": _context(base, scenario_iri, registration, course_id),
    }


def xapi_completed(
    scenario: Scenario,
    state: State,
    actor_name: str,
    registration: str,
    base_iri: str,
    *,
    course_id: str | None = None,
    language: str = "en-US",
) -> dict:
    """Return the xAPI `completed` statement for a finished play.

    The ending class goes under `<base>/xapi/ext/ending`, the ending node under
    `<base>/xapi/ext/ending-node` and the final meter totals under `<base>/xapi/ext/totals`.
    """
    if not state.finished:
        raise PlayError("the scenario has not ended yet")
    base = base_iri.rstrip("/")
    scenario_iri = f"{base}/xapi/scenario/{scenario.id}"
    context = _context(base, scenario_iri, registration, course_id)
    del context["contextActivities"]["parent"]
    if not context["contextActivities"]:
        del context["contextActivities"]
    return {
        "actor": _actor(base, actor_name),
        "verb": {"id": VERB_COMPLETED, "display": {language: "completed"}},
        "object": {
            "id": scenario_iri,
            "definition": {"type": ACTIVITY_SIMULATION, "name": {language: scenario.title}},
        },
        "result": {
            "completion": True,
            "extensions": {
                f"{base}/xapi/ext/ending": state.ending,
                f"{base}/xapi/ext/ending-node": scenario.nodes[state.node_id].slug,
                f"{base}/xapi/ext/totals": dict(state.meters),
            },
        },
        "context": context,
    }


def _actor(base: str, actor_name: str) -> dict:
    return {"account": {"homePage": base, "name": actor_name}}


def _context(base: str, scenario_iri: str, registration: str, course_id: str | None) -> dict:
    activities = {"parent": [{"id": scenario_iri}]}
    if course_id:
        activities["grouping"] = [{"id": f"{base}/xapi/course/{course_id}"}]
    return {"registration": registration, "contextActivities": activities}


def _find_choice(scenario: Scenario, node_id: str, choice_id: str) -> Choice:
    node = scenario.nodes.get(node_id)
    if node is None:
        raise PlayError(f"unknown node {node_id!r} in path")
    for choice in node.choices:
        if choice.id == choice_id:
            return choice
    raise PlayError(f"unknown choice {choice_id!r} at {node_id!r}")


def _reachable(scenario: Scenario, node_id: str) -> set[str]:
    seen, todo = {node_id}, [node_id]
    while todo:
        for choice in scenario.nodes[todo.pop()].choices:
            if choice.to in scenario.nodes and choice.to not in seen:
                seen.add(choice.to)
                todo.append(choice.to)
    return seen
