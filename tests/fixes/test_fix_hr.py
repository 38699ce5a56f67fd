"""HR's side of the fix log: limits and problem lists, the guarded export, data-quality flags,
the API, the privacy export and erasure, and the content's problem_types declarations."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from tests.csv_checks import EVIL, cells, guarded_rows
from trainer.fixes.flags import gaming_flags
from trainer.fixes.log import log_fix
from trainer.fixes.models import Fix
from trainer.fixes.rollups import refresh_rollups
from trainer.fixes.settings import Settings, problem_choices, problem_types, settings_for
from trainer.fixes.training import training_by_problem
from trainer.learn.loader import load_course
from trainer.outcomes.tokens import create_token
from trainer.privacy.services import erase_person, export_person
from trainer.scenarios.loader import load_scenario_file
from trainer.util import quarter_bounds, quarter_of, shift_quarter, utcnow


def test_hr_sets_limits_and_problem_lists(client, session, fixes_setup, login_as):
    org = fixes_setup
    login_as(org.hr)
    response = client.post(
        "/fixes/settings",
        data={"unit_id": org.s2.id, "unit_type": "call", "currency": "usd", "goodwill_limit": "30"},
    )
    assert response.status_code == 302
    assert settings_for(org.t3, session=session) == Settings("call", "USD", 30.0, org.s2.id)
    bad = client.post("/fixes/settings", data={"unit_id": org.s2.id, "currency": "dollars"})
    assert bad.status_code == 400 and "three letters" in bad.get_data(as_text=True).lower()

    response = client.post(
        "/fixes/problems", data={"unit_type": "call", "code": "lost-parcel", "label": "Parcel lost"}
    )
    assert response.status_code == 302
    assert ("lost-parcel", "Parcel lost") in problem_choices("call", session=session)
    assert ("lost-parcel", "Parcel lost") not in problem_choices("dealer", session=session)
    again = client.post(
        "/fixes/problems", data={"unit_type": "call", "code": "lost-parcel", "label": "Parcel lost"}
    )
    assert again.status_code == 400 and "already has" in again.get_data(as_text=True)
    problem = next(p for p in problem_types(session=session) if p.code == "lost-parcel")
    assert client.post(f"/fixes/problems/{problem.id}/toggle", data={}).status_code == 302
    assert ("lost-parcel", "Parcel lost") not in problem_choices("call", session=session)
    assert problem_choices("call", session=session)[-1] == ("other", "Something else")


def test_the_export_is_thresholded_and_guarded(
    client, session, fixes_setup, log_fixes, login_as, make_unit
):
    org = fixes_setup
    org.t1.name = EVIL
    session.add(org.t1)
    session.commit()
    log_fixes(org.t1, 5)
    log_fixes(org.t3, 3, problem="billing-error")
    login_as(org.hr)
    rows = guarded_rows(client.get("/fixes/export.csv"))
    head, body = rows[0], {(r[0], r[2]): dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    period = quarter_of(utcnow().date())
    assert head[:5] == ["unit_code", "unit_name", "period", "people", "fixes"]
    # The company's 8 people are shown; T1's 5 would give away T3's 3 by subtraction.
    assert body[("C", period)]["people"] == "8" and body[("C", period)]["status"] == "shown"
    assert body[("C", period)]["fixes"] == "16" and body[("C", period)]["on_spot"] == "16"
    for code in ("T1", "T3"):
        assert body[(code, period)]["status"] == "hidden"
        assert body[(code, period)]["people"] == body[(code, period)]["fixes"] == ""
    assert "note" not in " ".join(cells(rows))  # never the notes, never a person


def _late_quarter(session, people, user_fixes):
    """Log `user_fixes` per person in the last quarter's final week."""
    period = shift_quarter(quarter_of(utcnow().date()), -1)
    end = quarter_bounds(period)[1]
    for person in people:
        for i in range(user_fixes):
            log_fix(
                session=session,
                user=person,
                problem="late-car",
                action="on_spot",
                goodwill=None,
                note="",
                now=utcnow().replace(year=end.year, month=end.month, day=end.day)
                - timedelta(days=3, minutes=7 * i),
            )
    refresh_rollups(session=session, now=utcnow())
    session.commit()


def test_flags_are_neutral_hr_only_and_never_on_the_viewers_own_unit(
    client, session, fixes_setup, make_user, login_as, runner
):
    org = fixes_setup
    people = [make_user("employee", org.t2) for _ in range(5)]
    _late_quarter(session, people, 3)
    flags = gaming_flags(session=session)
    assert [(f["unit_code"], f["signal"]) for f in flags] == [("T2", "volume_jump")]
    assert "not an accusation" in flags[0]["reason"]
    printed = runner.invoke(args=["fixes", "flags"])
    assert printed.exit_code == 0 and "T2" in printed.output and "1 flag." in printed.output
    login_as(org.hr)
    page = client.get("/fixes/flags").get_data(as_text=True)
    assert "Entries bunched before the review" in page and "T2" in page
    login_as(org.manager)
    assert client.get("/fixes/flags").status_code == 403
    hr_in_t2 = make_user("employee,hr", org.t2)
    login_as(hr_in_t2)
    assert "Entries bunched" not in client.get("/fixes/flags").get_data(as_text=True)


def test_near_identical_entries_are_flagged(session, fixes_setup, make_user):
    org = fixes_setup
    people = [make_user("employee", org.t2) for _ in range(5)]
    period = shift_quarter(quarter_of(utcnow().date()), -1)
    start = quarter_bounds(period)[0]
    for person in people:
        for i in range(4):
            log_fix(
                session=session,
                user=person,
                problem="late-car",
                action="on_spot",
                goodwill=None,
                note="Sorted it",
                now=utcnow().replace(year=start.year, month=start.month, day=start.day)
                + timedelta(days=7 * i),
            )
    refresh_rollups(session=session, now=utcnow())
    assert [f["signal"] for f in gaming_flags(session=session)] == ["near_identical"]


def test_the_api_reads_released_cells_with_a_token(client, session, fixes_setup, log_fixes):
    org = fixes_setup
    log_fixes(org.t1, 5)
    log_fixes(org.t3, 5, problem="billing-error")
    _token, secret = create_token(
        session=session, name="BI", scopes=["fixes:read"], created_by=org.hr, unit_id=org.s1.id
    )
    _token, other = create_token(
        session=session, name="BI", scopes=["outcomes:read"], created_by=org.hr
    )
    session.commit()
    auth = {"Authorization": f"Bearer {secret}"}
    body = client.get("/api/v1/fixes", headers=auth).get_json()
    by_unit = {c["unit_code"]: c for c in body["cells"]}
    assert set(by_unit) == {"T1", "S1"}  # the token's units only; T3 is outside
    assert by_unit["T1"]["people"] == 5 and by_unit["T1"]["on_spot_share"] == 1.0
    assert by_unit["T1"]["top_problems"] == ["late-car"] and body["min_people"] == 5
    assert client.get("/api/v1/fixes?unit_code=T3", headers=auth).status_code == 403
    assert client.get("/api/v1/fixes?period=2026Q9", headers=auth).status_code == 400
    assert (
        client.get("/api/v1/fixes", headers={"Authorization": f"Bearer {other}"}).status_code == 403
    )
    assert client.get("/api/v1/fixes").status_code == 401
    document = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/fixes" in document["paths"] and "FixCell" in document["components"]["schemas"]


def test_the_privacy_export_and_erasure_include_the_log(session, fixes_setup):
    org = fixes_setup
    log_fix(
        session=session,
        user=org.employee,
        problem="late-car",
        action="on_spot",
        goodwill=None,
        note="Mine",
    )
    session.commit()
    data = export_person(org.employee, session=session)
    assert [f["note"] for f in data["fixes_you_logged"]] == ["Mine"]
    erasure = erase_person(org.employee, session=session, by=org.hr)
    assert erasure.removed["fixes you logged"] == 1
    assert session.exec(select(Fix)).all() == []


COURSE = """id: sample
title: Sample
summary: A sample.
audience: employee
estimated_minutes: 5
pass_mark: 80
lessons: [01.md]
problem_types: {value}
"""


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("[late-car, wrong-part]", None),
        ("late-car", "must be a list"),
        ("[Late Car]", "must be a code"),
        ("[late-car, late-car]", "twice"),
        ("[]", "one or more"),
    ],
)
def test_content_declares_the_problems_it_practises(tmp_path: Path, value, problem):
    course = tmp_path / "sample"
    course.mkdir()
    (course / "course.yaml").write_text(COURSE.format(value=value))
    (course / "01.md").write_text("# One\n\nText.\n")
    loaded = load_course(course)
    if problem is None:
        assert loaded.course.problem_types == ["late-car", "wrong-part"]
    else:
        assert loaded.course is None
        assert any(problem in p.message and p.line == 8 for p in loaded.problems)

    shipped = Path(__file__).parents[2] / "trainer" / "courses" / "scenarios"
    text = (shipped / "car-not-ready.yaml").read_text()
    scenario = tmp_path / "car-not-ready.yaml"
    scenario.write_text(
        text.replace("problem_types: [late-car, broken-promise]", f"problem_types: {value}")
    )
    result = load_scenario_file(scenario)
    if problem is None:
        assert result.ok and result.problem_types == ["late-car", "wrong-part"]
    else:
        assert not result.ok and any(problem in p.message for p in result.problems)


def test_shipped_content_declares_problem_types_in_yaml_and_twee():
    shipped = Path(__file__).parents[2] / "trainer" / "courses"
    twee = load_scenario_file(shipped / "scenarios" / "third-call.twee")
    assert twee.ok and twee.problem_types == ["repeat-call", "broken-promise"]
    training = training_by_problem(shipped)
    assert {i["slug"] for i in training["late-car"]} == {"owning-the-problem", "car-not-ready"}
