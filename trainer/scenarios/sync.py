"""Scenario content: the graphs kept in each version, the content check and the sync.

Plain functions with a keyword-only `session`; views, CLI commands, the demo and tests share them.
"""

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, func, select

from trainer.scenarios.engine import Choice, Node
from trainer.scenarios.engine import Scenario as Graph
from trainer.scenarios.lint import lint_scenario
from trainer.scenarios.loader import load_scenarios
from trainer.scenarios.models import Scenario, ScenarioVersion
from trainer.util import utcnow

SCENARIOS_FOLDER = "scenarios"  # inside COURSES_DIR


# --- Graphs and versions ----------------------------------------------------------------


def graph_to_json(scenario: Graph) -> dict:
    """Return the parsed scenario as plain JSON data (without source line numbers)."""
    data = asdict(scenario)
    for node in data["nodes"].values():
        node.pop("line", None)
        for choice in node["choices"]:
            choice.pop("line", None)
    return data


def graph_from_json(data: dict) -> Graph:
    data = {key: value for key, value in data.items() if key != "variants"}
    nodes = {
        node_id: Node(
            id=raw["id"],
            text=raw["text"],
            ending=raw["ending"],
            debrief=raw["debrief"],
            choices=[Choice(**choice) for choice in raw["choices"]],
        )
        for node_id, raw in data["nodes"].items()
    }
    return Graph(**{**data, "nodes": nodes})


def content_hash(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


_graphs: dict[tuple[str, str | None], Graph] = {}


def graph_of(version: ScenarioVersion, language: str | None = None) -> Graph:
    """Return the engine scenario of a version (cached by content hash: versions never change).

    With `language`, its translation when the version has one: the same graph, other words."""
    variants = version.graph.get("variants") or {}
    language = language if language in variants else None
    key = (version.content_hash, language)
    graph = _graphs.get(key)
    if graph is None:
        graph = _graphs[key] = graph_from_json(variants[language] if language else version.graph)
    return graph


def current_version(*, session: Session, scenario: Scenario) -> ScenarioVersion:
    return session.exec(
        select(ScenarioVersion).where(
            ScenarioVersion.scenario_id == scenario.id,
            ScenarioVersion.number == scenario.current_version,
        )
    ).one()


# --- Content check and sync -------------------------------------------------------------


def check_scenarios(courses_dir: Path) -> list:
    """Return every problem in `<courses_dir>/scenarios` (each prints as `file:line: reason`)."""
    folder = Path(courses_dir) / SCENARIOS_FOLDER
    if not folder.is_dir():
        return []
    return [problem for result in load_scenarios(folder) for problem in result.problems]


def lint_scenarios(courses_dir: Path) -> list:
    """Return the loader's warnings and the lint's for `<courses_dir>/scenarios`."""
    folder = Path(courses_dir) / SCENARIOS_FOLDER
    if not folder.is_dir():
        return []
    warnings = []
    for result in load_scenarios(folder):
        warnings += result.warnings
        if result.scenario:
            warnings += lint_scenario(result.scenario, str(result.path))
    return warnings


@dataclass
class SyncSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    skipped: int = 0  # files with problems, left as they were

    def __str__(self) -> str:
        text = (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.retired} retired"
        )
        return text + (f", {self.skipped} skipped (see content check)" if self.skipped else "")


def sync_scenarios(*, session: Session, courses_dir: Path, now: datetime | None = None) -> str:
    """Load `<courses_dir>/scenarios` into the database; return a one-line summary."""
    folder = Path(courses_dir) / SCENARIOS_FOLDER
    return str(sync_scenario_folder(session=session, folder=folder, now=now))


def sync_scenario_folder(
    *, session: Session, folder: Path, now: datetime | None = None
) -> SyncSummary:
    """Add a version for each new or changed scenario file and retire scenarios whose file went.

    Plays keep the version they were played on; nothing is ever deleted.
    """
    now = now or utcnow()
    summary = SyncSummary()
    results = load_scenarios(folder) if Path(folder).is_dir() else []
    existing = {s.slug: s for s in session.exec(select(Scenario)).all()}
    present = set()
    for result in results:
        if not result.ok:
            summary.skipped += 1
            stem = result.path.stem if result.path else None
            present.add(stem)  # a broken file is not a removed one
            continue
        graph = result.scenario
        present.add(graph.id)
        data = graph_to_json(graph)
        if result.variants:  # only then, so a scenario without translations keeps its hash
            data["variants"] = {lang: graph_to_json(v) for lang, v in result.variants.items()}
        digest = content_hash(data)
        scenario = existing.get(graph.id)
        if scenario is None:
            scenario = Scenario(slug=graph.id, title=graph.title, current_version=1)
            session.add(scenario)
            session.flush()
            _add_version(session, scenario, 1, digest, result.path, data, now)
            summary.added += 1
            continue
        version = current_version(session=session, scenario=scenario)
        if version.content_hash == digest and scenario.retired_at is None:
            summary.unchanged += 1
            continue
        if version.content_hash != digest:
            latest = session.exec(
                select(func.max(ScenarioVersion.number)).where(
                    ScenarioVersion.scenario_id == scenario.id
                )
            ).one()
            _add_version(session, scenario, latest + 1, digest, result.path, data, now)
            scenario.current_version = latest + 1
        scenario.title = graph.title
        scenario.retired_at = None
        session.add(scenario)
        summary.updated += 1
    for slug, scenario in existing.items():
        if slug not in present and scenario.retired_at is None:
            scenario.retired_at = now
            session.add(scenario)
            summary.retired += 1
    session.flush()
    return summary


def _add_version(session, scenario, number, digest, path, data, now) -> ScenarioVersion:
    version = ScenarioVersion(
        scenario_id=scenario.id,
        number=number,
        content_hash=digest,
        source_file=Path(path).name if path else "",
        graph=data,
        created_at=now,
    )
    session.add(version)
    session.flush()
    return version


def active_scenarios(*, session: Session) -> list[Scenario]:
    return list(
        session.exec(
            select(Scenario).where(Scenario.retired_at.is_(None)).order_by(Scenario.title)
        ).all()
    )


def all_scenarios(*, session: Session) -> list[Scenario]:
    """Return every scenario by title, retired ones too (their plays stay in the reports)."""
    return list(session.exec(select(Scenario).order_by(Scenario.title)).all())


def scenario_by_slug(*, session: Session, slug: str) -> Scenario | None:
    return session.exec(select(Scenario).where(Scenario.slug == slug)).first()
