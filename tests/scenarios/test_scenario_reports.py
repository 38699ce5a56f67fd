"""Choice reports for managers and HR: thresholds, complement rule, scope, CSV, insights feed."""

import csv
import io
import re
from pathlib import Path

import pytest

from tests.csv_checks import EVIL, guarded_rows
from trainer.scenarios.plays import choose, start_play
from trainer.scenarios.reports import ownership_by_unit_period
from trainer.scenarios.sync import scenario_by_slug, sync_scenario_folder
from trainer.util import quarter_of, utcnow

VALID = Path(__file__).parent / "cases" / "valid"
HIDDEN = "Not enough players to show a breakdown"
OWN_OWN, ESCALATE_TWICE = (0, 0), (1, 0)  # refund-no-receipt: credit+explain, manager+handle


@pytest.fixture
def scenario(session):
    sync_scenario_folder(session=session, folder=VALID)
    session.commit()
    return scenario_by_slug(session=session, slug="refund-no-receipt")


@pytest.fixture
def add_players(session, make_user, scenario):
    """Add `n` people to `unit`, each finishing the scenario with `choices`."""

    def add(unit, n, choices=OWN_OWN, mode="play", replays=0):
        people = []
        for _ in range(n):
            user = make_user("employee", unit)
            for _ in range(1 + replays):
                play = start_play(session=session, user=user, scenario=scenario, mode=mode)
                for step, index in enumerate(choices):
                    choose(
                        session=session,
                        play=play,
                        node_id=play.node_id,
                        step=step,
                        choice_index=index,
                        base_iri="http://localhost",
                    )
            people.append(user)
        session.commit()
        return people

    return add


def row(html, unit_code):
    """Return the text of the report table row for a unit."""
    match = re.search(
        rf"<tr>\s*<th scope=\"row\"[^>]*>(?:<a [^>]*>)?{unit_code}\b.*?</tr>", html, re.DOTALL
    )
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0))) if match else None


def report(client, scenario):
    response = client.get(f"/scenarios/reports/{scenario.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_team_of_exactly_five_players_is_shown(client, login_as, org, scenario, add_players):
    add_players(org.t1, 5)
    login_as(org.manager)
    html = report(client, scenario)
    assert row(html, "T1").split() == [
        "T1",
        ":",
        "choices",
        "at",
        "each",
        "decision",
        "5",
        "5",
        "/",
        "0",
        "/",
        "0",
        "100%",
    ]
    detail = client.get(f"/scenarios/reports/{scenario.id}/units/{org.t1.id}")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", detail.get_data(as_text=True)))
    assert "Offer store credit Own it 5 (100%)" in text
    assert "Call the duty manager Escalate 0 (0%)" in text


def test_a_team_of_four_players_shows_no_breakdown(client, login_as, org, scenario, add_players):
    add_players(org.t1, 4)
    login_as(org.manager)
    html = report(client, scenario)
    assert HIDDEN in row(html, "T1")
    assert HIDDEN in row(html, "S1")
    assert not re.search(r'<td class="num">\d', html)
    detail = client.get(f"/scenarios/reports/{scenario.id}/units/{org.t1.id}")
    assert detail.status_code == 200
    page = detail.get_data(as_text=True)
    assert "Not enough players to show a breakdown for T1" in page
    assert "Offer store credit" not in page


def test_complement_rule_hides_a_team_when_the_rest_of_its_site_is_small(
    client, login_as, org, scenario, add_players
):
    add_players(org.t1, 5)
    add_players(org.t2, 3)
    login_as(org.manager)
    html = report(client, scenario)
    assert "8" in row(html, "S1").split()
    assert HIDDEN in row(html, "T1") and HIDDEN in row(html, "T2")

    add_players(org.t2, 2)
    html = report(client, scenario)
    assert "5" in row(html, "T1").split() and "5" in row(html, "T2").split()


def test_practice_plays_and_replays_never_count(client, login_as, org, scenario, add_players):
    add_players(org.t1, 4, replays=2)
    add_players(org.t1, 3, mode="practice")
    login_as(org.hr)
    html = report(client, scenario)
    assert HIDDEN in row(html, "T1")
    add_players(org.t1, 1)
    assert "5" in row(report(client, scenario), "T1").split()


def test_managers_see_their_scope_only(client, login_as, org, scenario, add_players):
    add_players(org.t3, 5)
    login_as(org.manager)
    assert row(report(client, scenario), "T3") is None
    assert client.get(f"/scenarios/reports/{scenario.id}/units/{org.t3.id}").status_code == 403
    login_as(org.hr)
    assert "5" in row(report(client, scenario), "T3").split()
    assert client.get(f"/scenarios/reports/{scenario.id}/units/{org.t3.id}").status_code == 200


def test_employees_cannot_open_reports(client, login_as, org, scenario):
    login_as(org.employee)
    assert client.get("/scenarios/reports").status_code == 403
    assert client.get(f"/scenarios/reports/{scenario.id}").status_code == 403


def test_reports_never_show_who_chose_what(client, login_as, org, scenario, add_players):
    people = add_players(org.t1, 5)
    login_as(org.hr)
    pages = [
        report(client, scenario),
        client.get(f"/scenarios/reports/{scenario.id}/units/{org.t1.id}").get_data(as_text=True),
        client.get(f"/scenarios/reports/{scenario.id}/export.csv").get_data(as_text=True),
    ]
    for page in pages:
        for person in people:
            assert person.name not in page and person.email not in page


def read_csv(client, scenario):
    response = client.get(f"/scenarios/reports/{scenario.id}/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_export_applies_the_same_thresholds(client, login_as, org, scenario, add_players):
    add_players(org.t1, 5)
    add_players(org.t2, 2)
    add_players(org.t3, 5)
    login_as(org.hr)
    rows = read_csv(client, scenario)
    s1 = [r for r in rows if r["unit_code"] == "S1"]
    assert {r["players"] for r in s1} == {"7"}
    credit = next(r for r in s1 if r["choice"] == "Offer store credit")
    assert (credit["decision_point"], credit["reached"], credit["chosen"]) == ("counter", "7", "7")
    assert {r["players"] for r in rows if r["unit_code"] == "T3"} == {"5"}
    # T2 has 2 players; T1 has 5, but S1 minus T1 would give T2's 2 away.
    for code in ("T1", "T2"):
        [hidden] = [r for r in rows if r["unit_code"] == code]
        assert hidden["note"] == HIDDEN
        assert all(
            hidden[c] == ""
            for c in ("players", "endings_good", "ownership_rate", "reached", "chosen")
        )
    assert period_of(rows) == quarter_of(utcnow().date())

    login_as(org.manager)
    assert {r["unit_code"] for r in read_csv(client, scenario)} == {"S1", "T1", "T2"}


def period_of(rows):
    return {r["period"] for r in rows}.pop()


def test_ownership_by_unit_period(session, org, scenario, add_players):
    add_players(org.t1, 5, OWN_OWN)
    add_players(org.t2, 5, ESCALATE_TWICE)
    period = quarter_of(utcnow().date())
    rows = {r["unit_id"]: r for r in ownership_by_unit_period(session=session)}
    assert rows[org.t1.id] == {
        "unit_id": org.t1.id,
        "unit_code": "T1",
        "period": period,
        "players": 5,
        "decisions": 10,
        "ownership_rate": 1.0,
    }
    assert rows[org.t2.id]["ownership_rate"] == 0.0
    assert rows[org.s1.id]["players"] == 10 and rows[org.s1.id]["ownership_rate"] == 0.5
    assert rows[org.company.id]["decisions"] == 20
    assert org.t3.id not in rows and org.r2.id not in rows

    scoped = ownership_by_unit_period(session=session, unit_ids={org.t1.id, org.t3.id})
    assert [r["unit_code"] for r in scoped] == ["T1"]

    add_players(org.t3, 4, OWN_OWN)
    rows = {r["unit_id"]: r for r in ownership_by_unit_period(session=session)}
    assert org.t3.id not in rows and org.r2.id not in rows
    assert all(r["players"] >= 5 for r in rows.values())
    assert rows[org.company.id]["players"] == 14


def test_reports_index_shows_ownership_by_unit(client, login_as, org, scenario, add_players):
    add_players(org.t1, 5, OWN_OWN)
    add_players(org.t2, 5, ESCALATE_TWICE)
    login_as(org.manager)
    html = client.get("/scenarios/reports").get_data(as_text=True)
    assert row(html, "S1").split() == ["S1", "10", "20", "50%"]
    assert row(html, "T1").split() == ["T1", "5", "10", "100%"]
    assert row(html, "C") is None  # outside the manager's scope
    assert f'href="/scenarios/reports/{scenario.id}"' in html


def test_a_manager_without_units_sees_an_explanation(client, login_as, make_user, org, scenario):
    login_as(make_user("employee,manager", org.t1))
    html = client.get(f"/scenarios/reports/{scenario.id}").get_data(as_text=True)
    assert "You don't manage any units yet" in html


def test_csv_export_guards_a_unit_name_that_looks_like_a_formula(
    client, login_as, session, org, scenario, add_players
):
    org.t3.name = EVIL
    session.add(org.t3)
    session.commit()
    add_players(org.t3, 5)
    login_as(org.hr)

    header, *rows = guarded_rows(client.get(f"/scenarios/reports/{scenario.id}/export.csv"))

    t3 = [dict(zip(header, row, strict=True)) for row in rows if row[1] == "T3"]
    assert t3 and {r["unit_name"] for r in t3} == {"'" + EVIL}
    assert {r["players"] for r in t3} == {"5"}
