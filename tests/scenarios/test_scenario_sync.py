"""`flask content check` and `content sync` for scenarios: versions, retirement, messages."""

import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from trainer.scenarios.models import Play, Scenario, ScenarioVersion
from trainer.scenarios.plays import choose, start_play
from trainer.scenarios.sync import (
    active_scenarios,
    graph_of,
    scenario_by_slug,
    sync_scenario_folder,
)

CASES = Path(__file__).parent / "cases"
VALID = CASES / "valid" / "refund-no-receipt.yaml"


@pytest.fixture
def content(tmp_path):
    """A content folder holding one valid scenario."""
    folder = tmp_path / "courses" / "scenarios"
    folder.mkdir(parents=True)
    shutil.copy(VALID, folder / VALID.name)
    return tmp_path / "courses"


def sync(session, courses_dir):
    summary = sync_scenario_folder(session=session, folder=courses_dir / "scenarios")
    session.commit()
    return summary


def versions(session, scenario):
    return session.exec(
        select(ScenarioVersion)
        .where(ScenarioVersion.scenario_id == scenario.id)
        .order_by(ScenarioVersion.number)
    ).all()


def test_sync_adds_a_scenario_once(session, content):
    assert str(sync(session, content)).startswith("1 added, 0 updated, 0 unchanged")
    assert str(sync(session, content)).startswith("0 added, 0 updated, 1 unchanged")
    scenario = scenario_by_slug(session=session, slug="refund-no-receipt")
    assert scenario.title == "Refund without a receipt"
    [version] = versions(session, scenario)
    assert version.number == 1 and len(version.content_hash) == 64
    assert graph_of(version).nodes["counter"].choices[0].id == "credit"


def test_editing_a_file_makes_a_new_version_and_old_plays_keep_theirs(session, content, org):
    sync(session, content)
    scenario = scenario_by_slug(session=session, slug="refund-no-receipt")
    play = start_play(session=session, user=org.employee, scenario=scenario)
    session.commit()

    path = content / "scenarios" / VALID.name
    path.write_text(path.read_text().replace("Offer store credit", "Offer a store voucher"))
    assert sync(session, content).updated == 1
    session.refresh(scenario)
    old, new = versions(session, scenario)
    assert scenario.current_version == 2 and old.content_hash != new.content_hash
    assert graph_of(new).nodes["counter"].choices[0].text == "Offer a store voucher"

    # The play started before the edit finishes on the version it began with.
    choose(
        session=session,
        play=play,
        node_id="counter",
        step=0,
        choice_index=0,
        base_iri="http://localhost",
    )
    assert play.version_id == old.id
    newer = start_play(session=session, user=org.manager, scenario=scenario)
    assert newer.version_id == new.id


def test_a_whitespace_or_comment_edit_is_not_a_new_version(session, content):
    sync(session, content)
    path = content / "scenarios" / VALID.name
    path.write_text("# A new comment\n" + path.read_text())
    assert sync(session, content).unchanged == 1


def test_removing_a_file_retires_the_scenario_but_keeps_plays(session, content, org):
    sync(session, content)
    scenario = scenario_by_slug(session=session, slug="refund-no-receipt")
    play = start_play(session=session, user=org.employee, scenario=scenario)
    session.commit()
    (content / "scenarios" / VALID.name).unlink()
    assert sync(session, content).retired == 1
    session.refresh(scenario)
    assert scenario.retired_at is not None
    assert active_scenarios(session=session) == []
    assert session.get(Play, play.id) is not None

    shutil.copy(VALID, content / "scenarios" / VALID.name)
    assert sync(session, content).updated == 1
    session.refresh(scenario)
    assert scenario.retired_at is None and scenario.current_version == 1


def test_a_broken_file_is_skipped_not_retired(session, content):
    sync(session, content)
    path = content / "scenarios" / VALID.name
    path.write_text(path.read_text().replace("to: happy", "to: nowhere", 1))
    summary = sync(session, content)
    assert summary.skipped == 1 and summary.retired == 0
    assert scenario_by_slug(session=session, slug="refund-no-receipt").retired_at is None


def test_content_check_reports_file_line_reason(app, runner, content):
    shutil.copy(CASES / "broken" / "missing-target.yaml", content / "scenarios")
    result = runner.invoke(args=["content", "check", "--dir", str(content)])
    assert result.exit_code == 1
    expected = f"{content / 'scenarios' / 'missing-target.yaml'}:21: missing target"
    assert expected in result.output


def test_content_sync_loads_scenarios_and_refuses_broken_ones(app, runner, session, content):
    result = runner.invoke(args=["content", "sync", "--dir", str(content)])
    assert result.exit_code == 0, result.output
    assert "scenarios: 1 added" in result.output
    shutil.copy(CASES / "broken" / "missing-target.yaml", content / "scenarios")
    result = runner.invoke(args=["content", "sync", "--dir", str(content)])
    assert result.exit_code == 1
    assert session.exec(select(Scenario)).all()[0].slug == "refund-no-receipt"


def test_every_shipped_scenario_syncs(app, session):
    summary = sync_scenario_folder(
        session=session, folder=Path(app.config["COURSES_DIR"]) / "scenarios"
    )
    assert summary.skipped == 0 and summary.added >= 13
