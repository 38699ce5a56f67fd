"""Scenario results: each person's best and latest result, and the best path through a graph."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from trainer.auth.models import User
from trainer.scenarios import engine
from trainer.scenarios.engine import Choice, Node, State
from trainer.scenarios.engine import Scenario as Graph
from trainer.scenarios.models import FULL_PLAY_MODES, Play, PlayMode


@dataclass(frozen=True)
class Result:
    play_id: int
    ending: str
    meters: dict
    finished_at: datetime


def results_by_scenario(*, session: Session, user: User) -> dict[int, dict]:
    """Map scenario id to {'best': Result, 'latest': Result, 'count': n, 'open': Play | None}.

    The best result ranks the ending class first, then the meters (engine.rank_result); a
    replay never overwrites a better one, because every attempt is kept.
    """
    plays = session.exec(
        select(Play)
        .where(Play.user_id == user.id, Play.mode.in_(FULL_PLAY_MODES))
        .order_by(Play.started_at, Play.id)
    ).all()
    out: dict[int, dict] = {}
    for play in plays:
        entry = out.setdefault(
            play.scenario_id, {"best": None, "latest": None, "count": 0, "open": None}
        )
        if not play.finished:
            if play.mode == PlayMode.PLAY:
                entry["open"] = play
            continue
        result = Result(play.id, play.ending, play.meters, play.finished_at)
        entry["count"] += 1
        entry["latest"] = result
        best = entry["best"]
        if best is None or (
            engine.rank_result(result.ending, result.meters)
            > engine.rank_result(best.ending, best.meters)
        ):
            entry["best"] = result
    return out


_best_paths: dict[str, State] = {}


def best_path(graph: Graph, cache_key: str | None = None) -> State:
    """Return the final state of the best path through the scenario (by engine.rank_result)."""
    if cache_key and cache_key in _best_paths:
        return _best_paths[cache_key]
    best = None
    todo = [engine.start(graph)]
    while todo:
        state = todo.pop()
        if state.finished:
            if best is None or (
                engine.rank_result(state.ending, state.meters)
                > engine.rank_result(best.ending, best.meters)
            ):
                best = state
            continue
        visited = {node_id for node_id, _ in state.path}
        node = graph.nodes[state.node_id]
        for index, choice in enumerate(node.choices):
            if choice.to not in visited and choice.to != state.node_id:
                todo.append(engine.choose(graph, state, index))
    if cache_key:
        _best_paths[cache_key] = best
    return best


def path_choices(graph: Graph, path) -> list[tuple[Node, Choice]]:
    out = []
    for node_id, choice_id in path:
        node = graph.nodes[node_id]
        out.append((node, next(c for c in node.choices if c.id == choice_id)))
    return out
