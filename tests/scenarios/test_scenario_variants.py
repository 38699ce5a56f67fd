"""Scenario language variants: `name.de.yaml` beside `name.yaml`, shown to German readers,
and checked to hold the same graph."""

import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from trainer.scenarios.loader import load_scenarios
from trainer.scenarios.models import Play
from trainer.scenarios.sync import graph_of, scenario_by_slug, sync_scenario_folder

CASES = Path(__file__).parent / "cases"
VALID = CASES / "valid" / "refund-no-receipt.yaml"
GERMAN = {
    "title: Refund without a receipt": "title: Erstattung ohne Kassenbon",
    "A regular customer wants a cash refund for a kettle. No receipt.": (
        "Eine Stammkundin möchte für einen Wasserkocher Bargeld zurück. Kein Kassenbon."
    ),
    "text: Offer store credit": "text: Einen Gutschein anbieten",
    "text: Call the duty manager": "text: Die diensthabende Leitung rufen",
    "She leaves with the voucher": "Sie geht mit dem Gutschein",
}


def german(text=None, **swaps):
    text = text or VALID.read_text(encoding="utf-8")
    for old, new in {**GERMAN, **swaps}.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


@pytest.fixture
def content(tmp_path):
    folder = tmp_path / "courses" / "scenarios"
    folder.mkdir(parents=True)
    shutil.copy(VALID, folder / VALID.name)
    return tmp_path / "courses"


def check(runner, content, variant_text, name="refund-no-receipt.de.yaml"):
    (content / "scenarios" / name).write_text(variant_text, encoding="utf-8")
    result = runner.invoke(args=["content", "check", "--dir", str(content)])
    return result, str(content / "scenarios" / name)


def test_a_german_reader_sees_the_german_scenario_and_plays_the_same_graph(
    client, session, org, login_as, content
):
    (content / "scenarios" / "refund-no-receipt.de.yaml").write_text(german(), encoding="utf-8")
    summary = sync_scenario_folder(session=session, folder=content / "scenarios")
    session.commit()
    assert summary.added == 1 and summary.skipped == 0  # one scenario, not two
    assert scenario_by_slug(session=session, slug="refund-no-receipt") is not None

    org.employee.locale = "de"
    session.add(org.employee)
    session.commit()
    login_as(org.employee)
    intro = client.get("/scenarios/refund-no-receipt").get_data(as_text=True)
    assert "Erstattung ohne Kassenbon" in intro
    response = client.post("/scenarios/refund-no-receipt/start", data={"mode": "play"})
    assert response.status_code in (302, 303)
    play = session.exec(select(Play)).one()
    page = client.get(response.location).get_data(as_text=True)
    assert "Stammkundin" in page and "Einen Gutschein anbieten" in page
    assert "Offer store credit" not in page
    version = play_version(session, play)
    assert set(version.graph["variants"]) == {"de"}
    assert graph_of(version).title == "Refund without a receipt"  # stored with its original

    org.employee.locale = "en"
    session.add(org.employee)
    session.commit()
    page = client.get(response.location).get_data(as_text=True)
    assert "Offer store credit" in page and "Stammkundin" not in page  # the same play


def play_version(session, play):
    from trainer.scenarios.models import ScenarioVersion

    return session.get(ScenarioVersion, play.version_id)


def test_content_check_passes_a_faithful_translation(app, runner, content):
    result, _ = check(runner, content, german())
    assert result.exit_code == 0, result.output


def test_content_check_names_a_choice_with_other_consequences(app, runner, content):
    text = german()
    line = text[: text.index("effects: {trust: -1, time: 20}")].count("\n") + 1
    changed = text.replace("effects: {trust: -1, time: 20}", "effects: {trust: 1, time: 20}", 1)
    result, path = check(runner, content, changed)
    assert result.exit_code == 1
    assert "choice 'manager' of node 'counter' leads to 'manager'" in result.output
    assert any(f"{path}:{n}: " in result.output for n in range(line - 4, line + 1))


def test_content_check_names_a_missing_node_and_a_changed_choice_list(app, runner, content):
    text = german()
    cut = text.index("  audit:")
    text = text[:cut].replace("to: audit", "to: grumble")  # drop the last node, keep links whole
    result, path = check(runner, content, text)
    assert result.exit_code == 1
    assert f"{path}:1: node 'audit' is missing" in result.output

    text = german().replace(
        "      - id: cash\n        text: Refund the cash anyway",
        "      - id: bar\n        text: Trotzdem bar erstatten",
    )
    result, path = check(runner, content, text)
    assert result.exit_code == 1
    assert "node 'counter' has the choices ['credit', 'manager', 'bar']" in result.output


def test_content_check_names_a_translation_without_an_original(app, runner, content):
    result, path = check(runner, content, german(), name="refund-lost.de.yaml")
    assert result.exit_code == 1
    assert f"{path}:1: a translation of refund-lost" in result.output


def test_the_shipped_german_scenario_passes_and_is_stored_with_its_original(app, session):
    folder = Path(app.config["COURSES_DIR"]) / "scenarios"
    results = {r.path.name: r for r in load_scenarios(folder)}
    variants = [name for name, r in results.items() if r.variants.get("de")]
    assert variants, "ship at least one scenario in German"
    for name in variants:
        assert results[name].ok, [str(p) for p in results[name].problems]
