"""Choice reports: aggregate counts per (unit subtree, quarter), with suppression applied.

Only finished first attempts in normal mode count: practice plays, replays and re-serves never
reach a report. Every figure passes through `anonymity.visible_cells` before it leaves here, and
a hidden cell carries no counts at all.
"""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, case, func, select

from trainer.anonymity import MIN_SCORES, visible_cells, visible_overlaps
from trainer.org.models import OrgUnit
from trainer.scenarios.engine import Scenario as Graph
from trainer.scenarios.models import ChoiceRecord, Play, PlayMode

ENDING_CLASSES = ("good", "acceptable", "poor")
CSV_COLUMNS = [
    "period",
    "unit_code",
    "unit_name",
    "players",
    "endings_good",
    "endings_acceptable",
    "endings_poor",
    "ownership_rate",
    "decision_point",
    "choice",
    "kind",
    "reached",
    "chosen",
    "note",
]
HIDDEN_CELL = "Not enough players to show a breakdown"
HIDDEN_DECISION = "Not enough players reached this decision"
KIND_LABELS = {
    "own": _l("Own it"),
    "escalate": _l("Escalate"),
    "script": _l("Follow the script"),
    "bend": _l("Bend the policy"),
    "deflect": _l("Deflect"),
}


@dataclass
class Tree:
    """The org tree in display order, with each unit's ancestors (itself included)."""

    units: dict[int, OrgUnit]
    parent_of: dict[int, int | None]
    order: list[tuple[OrgUnit, int]]  # (unit, depth)

    def short_name(self, unit: OrgUnit) -> str:
        """Return the unit's name without its parent's name in front ("Sales", not
        "Leeds Motors: Sales"), for indented tables."""
        parent = self.units.get(unit.parent_id)
        if parent is not None and unit.name.startswith(f"{parent.name}: "):
            return unit.name[len(parent.name) + 2 :]
        return unit.name

    def lineage(self, unit_id: int) -> list[int]:
        unit = self.units.get(unit_id)
        if unit is None:
            return []
        return [int(i) for i in unit.path.strip("/").split("/") if i] + [unit_id]


def load_tree(*, session: Session) -> Tree:
    units = {u.id: u for u in session.exec(select(OrgUnit)).all()}
    children: dict[int | None, list[OrgUnit]] = {}
    for unit in units.values():
        children.setdefault(unit.parent_id, []).append(unit)
    order: list[tuple[OrgUnit, int]] = []

    def walk(parent_id, depth):
        for unit in sorted(children.get(parent_id, []), key=lambda u: (u.name, u.id)):
            order.append((unit, depth))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return Tree(units, {u.id: u.parent_id for u in units.values()}, order)


def _counted(statement):
    """Restrict a query on Play to the plays that reports may count."""
    return statement.where(
        Play.mode == PlayMode.PLAY,
        Play.is_first_attempt.is_(True),
        Play.finished_at.is_not(None),
        Play.unit_id.is_not(None),
    )


def _roll_up(tree: Tree, rows, combine) -> dict:
    """Add each leaf row's value to the unit and all its ancestors with `combine(old, value)`."""
    totals: dict = {}
    for unit_id, value in rows:
        for ancestor in tree.lineage(unit_id):
            totals[ancestor] = combine(totals.get(ancestor), value)
    return totals


def _add(old, value):
    return value if old is None else old + value


def _union(old, value):
    return set(value) if old is None else old | value


@dataclass
class Cell:
    """One unit's figures for one scenario and quarter; every count is None when hidden."""

    unit: OrgUnit
    depth: int
    shown: bool
    players: int | None = None
    endings: dict[str, int] | None = None
    decisions: int | None = None
    ownership_rate: float | None = None


@dataclass
class DecisionCell:
    """The choices made at one decision point by one unit's players."""

    node_id: str
    shown: bool
    reached: int | None = None
    choices: dict[str, int] | None = None


@dataclass
class ScenarioReport:
    scenario_id: int
    period: str
    cells: dict[int, Cell]
    decisions: dict[int, dict[str, DecisionCell]] = field(default_factory=dict)

    def rows(self, tree: Tree, scope: set[int] | None) -> list[Cell]:
        """Return the cells of the units in `scope` (None: every unit), in tree order."""
        return [self.cells[unit.id] for unit, _ in tree.order if scope is None or unit.id in scope]


def players_by_unit(*, session: Session, tree: Tree, period: str) -> dict[int, set[int]]:
    """Return the distinct counted players per unit subtree in `period`, across scenarios."""
    rows = session.exec(
        _counted(select(Play.unit_id, Play.user_id).distinct()).where(Play.period == period)
    ).all()
    return _roll_up(tree, [(unit_id, {user_id}) for unit_id, user_id in rows], _union)


def scenario_report(
    *, session: Session, tree: Tree, scenario_id: int, period: str, min_players: int = MIN_SCORES
) -> ScenarioReport:
    """Compute every unit's cell and decision cells for one scenario and quarter."""

    def counted(*columns):
        return _counted(select(Play.unit_id, *columns)).where(
            Play.scenario_id == scenario_id, Play.period == period
        )

    ending_rows = session.exec(
        counted(Play.ending, func.count()).group_by(Play.unit_id, Play.ending)
    ).all()
    endings = _roll_up(tree, [(u, Counter({e: n})) for u, e, n in ending_rows], _add)
    players = {unit_id: sum(counter.values()) for unit_id, counter in endings.items()}

    owned = func.sum(case((ChoiceRecord.kind == "own", 1), else_=0))
    decision_rows = session.exec(
        counted(func.count(ChoiceRecord.id), owned)
        .join(ChoiceRecord, ChoiceRecord.play_id == Play.id)
        .group_by(Play.unit_id)
    ).all()
    decisions = _roll_up(tree, [(u, Counter(n=n, own=o or 0)) for u, n, o in decision_rows], _add)

    across_scenarios = players_by_unit(session=session, tree=tree, period=period)
    whole = {u: len(s) for u, s in across_scenarios.items()}
    shown = visible_cells(players, tree.parent_of, min_players)
    shown &= visible_overlaps(whole, {u: players[u] for u in shown}, min_players)

    cells = {}
    for unit, depth in tree.order:
        cell = Cell(unit, depth, unit.id in shown)
        if cell.shown:
            counts = decisions.get(unit.id, Counter())
            cell.players = players[unit.id]
            cell.endings = {e: endings[unit.id].get(e, 0) for e in ENDING_CLASSES}
            cell.decisions = counts["n"]
            cell.ownership_rate = counts["own"] / counts["n"] if counts["n"] else None
        cells[unit.id] = cell
    report = ScenarioReport(scenario_id, period, cells)
    report.decisions = _decision_cells(session, tree, counted, shown, min_players)
    return report


def _decision_cells(session, tree, counted, shown_units, min_players):
    """Return unit id -> node id -> DecisionCell, suppressing small or recoverable groups."""
    reached_rows = session.exec(
        counted(ChoiceRecord.node_id, func.count(func.distinct(Play.id)))
        .join(ChoiceRecord, ChoiceRecord.play_id == Play.id)
        .group_by(Play.unit_id, ChoiceRecord.node_id)
    ).all()
    choice_rows = session.exec(
        counted(ChoiceRecord.node_id, ChoiceRecord.choice_id, func.count())
        .join(ChoiceRecord, ChoiceRecord.play_id == Play.id)
        .group_by(Play.unit_id, ChoiceRecord.node_id, ChoiceRecord.choice_id)
    ).all()
    reached = _roll_up(tree, [(u, Counter({node: n})) for u, node, n in reached_rows], _add)
    chosen = _roll_up(tree, [(u, Counter({(node, c): n})) for u, node, c, n in choice_rows], _add)
    nodes = sorted({node for _, node, _ in reached_rows})
    out: dict[int, dict[str, DecisionCell]] = {unit_id: {} for unit_id in tree.units}
    for node in nodes:
        counts = {u: c[node] for u, c in reached.items() if c[node]}
        visible = visible_cells(counts, tree.parent_of, min_players) & shown_units
        for unit_id in tree.units:
            if unit_id not in visible:
                out[unit_id][node] = DecisionCell(node, False)
                continue
            picks = {c: n for (n_id, c), n in chosen[unit_id].items() if n_id == node}
            out[unit_id][node] = DecisionCell(node, True, counts[unit_id], picks)
    return out


def ownership_cells(
    *,
    session: Session,
    unit_ids: set[int] | None = None,
    periods: set[str] | None = None,
    min_players: int = MIN_SCORES,
) -> list[dict]:
    """Return the shown ownership cells per (unit subtree, quarter) across all scenarios."""
    tree = load_tree(session=session)
    query = _counted(select(Play.unit_id, Play.period, Play.user_id).distinct())
    if periods is not None:
        query = query.where(Play.period.in_(periods))
    player_rows = session.exec(query).all()
    owned = func.sum(case((ChoiceRecord.kind == "own", 1), else_=0))
    query = _counted(
        select(Play.unit_id, Play.period, func.count(ChoiceRecord.id), owned)
        .join(ChoiceRecord, ChoiceRecord.play_id == Play.id)
        .group_by(Play.unit_id, Play.period)
    )
    if periods is not None:
        query = query.where(Play.period.in_(periods))
    decision_rows = session.exec(query).all()

    by_period: dict[str, list] = {}
    for unit_id, period, user_id in player_rows:
        by_period.setdefault(period, []).append((unit_id, {user_id}))
    decisions_by_period: dict[str, list] = {}
    for unit_id, period, n, own in decision_rows:
        decisions_by_period.setdefault(period, []).append((unit_id, Counter(n=n, own=own or 0)))

    out = []
    for period in sorted(by_period):
        players = {u: len(s) for u, s in _roll_up(tree, by_period[period], _union).items()}
        decisions = _roll_up(tree, decisions_by_period.get(period, []), _add)
        for unit_id in visible_cells(players, tree.parent_of, min_players):
            if unit_ids is not None and unit_id not in unit_ids:
                continue
            counts = decisions.get(unit_id, Counter())
            out.append(
                {
                    "unit_id": unit_id,
                    "unit_code": tree.units[unit_id].code,
                    "period": period,
                    "players": players[unit_id],
                    "decisions": counts["n"],
                    "ownership_rate": counts["own"] / counts["n"] if counts["n"] else None,
                }
            )
    out.sort(key=lambda row: (row["period"], row["unit_code"]))
    return out


def ownership_by_unit_period(*, session: Session, unit_ids: set[int] | None = None) -> list[dict]:
    """Return the ownership rate per (unit, quarter) for the insights dashboard.

    Each row: {unit_id, unit_code, period, players, decisions, ownership_rate}, where a unit
    includes its subtree and only first attempts in normal mode count. Only cells with at least
    5 distinct players (and that pass the complement rule) are returned.
    """
    return ownership_cells(session=session, unit_ids=unit_ids)


def players_by_period(*, session: Session, scenario_id: int | None = None) -> dict[str, int]:
    """Return the distinct counted players per quarter, organisation-wide."""
    query = _counted(select(Play.period, func.count(func.distinct(Play.user_id))))
    if scenario_id is not None:
        query = query.where(Play.scenario_id == scenario_id)
    return dict(session.exec(query.group_by(Play.period)).all())


def scoped_rows(tree: Tree, scope: set[int] | None) -> list[tuple[OrgUnit, int]]:
    """Return the units in `scope` (None: every unit) in tree order, the top one at depth 0."""
    rows = [(unit, depth) for unit, depth in tree.order if scope is None or unit.id in scope]
    top = min((depth for _, depth in rows), default=0)
    return [(unit, depth - top) for unit, depth in rows]


def decision_rows(graph: Graph, decisions: dict[str, DecisionCell]) -> list[dict]:
    """Pair each decision point of the current version with its counts, in story order."""
    rows = []
    known = set()
    for node in graph.decisions:
        known.add(node.id)
        cell = decisions.get(node.id) or DecisionCell(node.id, False)
        choices = []
        if cell.shown:
            picks = dict(cell.choices)
            for choice in node.choices:
                count = picks.pop(choice.id, 0)
                choices.append((choice.text, choice.kind, count, count / cell.reached))
            for choice_id, count in sorted(picks.items()):
                choices.append(
                    (
                        f"An option from an earlier version ({choice_id})",
                        "",
                        count,
                        count / cell.reached,
                    )
                )
        rows.append({"id": node.id, "text": node.text, "cell": cell, "choices": choices})
    for node_id, cell in sorted(decisions.items()):
        if node_id not in known and cell.shown:
            choices = [
                (f"An option from an earlier version ({c})", "", n, n / cell.reached)
                for c, n in sorted(cell.choices.items())
            ]
            rows.append({"id": node_id, "text": "", "cell": cell, "choices": choices})
    return rows


def csv_rows(
    report: ScenarioReport, tree: Tree, graph: Graph, *, scope: set[int] | None, period: str
) -> Iterator[list]:
    """Yield the CSV export of a scenario report: a header, then one row per choice per unit
    in scope; a hidden unit or decision gives one row that says so, with no counts."""
    yield CSV_COLUMNS
    for unit, _ in scoped_rows(tree, scope):
        cell = report.cells[unit.id]
        lead = [period, unit.code, unit.name]
        if not cell.shown:
            yield [*lead, *[""] * 10, HIDDEN_CELL]
            continue
        rate = "" if cell.ownership_rate is None else f"{cell.ownership_rate:.3f}"
        figures = [
            cell.players,
            cell.endings["good"],
            cell.endings["acceptable"],
            cell.endings["poor"],
            rate,
        ]
        for row in decision_rows(graph, report.decisions[unit.id]):
            if not row["cell"].shown:
                yield [*lead, *figures, row["id"], "", "", "", "", HIDDEN_DECISION]
                continue
            for text, kind, count, _share in row["choices"]:
                yield [*lead, *figures, row["id"], text, kind, row["cell"].reached, count, ""]
