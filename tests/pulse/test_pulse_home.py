"""The pulse part of each role's home page: the survey to answer, commitments to confirm,
team results once released, live response rates, and units with results but no commitment."""

import re
from datetime import timedelta

from babel.dates import format_date

from tests.pulse.conftest import submit
from trainer.pulse.cycles import close_cycle
from trainer.pulse.ledger import add_commitment, mark_commitment
from trainer.util import utcnow


def _home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _tasks(page: str) -> str:
    return page.split('id="home-todo"', 1)[1].split('id="home-figures"', 1)[0]


def _figures(page: str) -> str:
    return page.split('id="home-figures"', 1)[1].split('id="home-links"', 1)[0]


def _run(session, start_cycle, org, counts, now=None):
    cycle = start_cycle(org, now=now)
    for team, n in counts.items():
        for person in org.people[team][:n]:
            submit(session, cycle, person, likert=4, enps=9)
    close_cycle(cycle, session=session, now=cycle.closes_at)
    session.commit()
    return cycle


def test_the_open_survey_comes_first_with_its_closing_date(
    client, session, staffed, start_cycle, login_as
):
    cycle = start_cycle(staffed)
    login_as(staffed.employee)
    tasks = _tasks(_home(client))
    assert "Answer the survey" in tasks
    assert f'href="/pulse/cycles/{cycle.id}/answer"' in tasks
    assert f"open until {format_date(cycle.closes_at, 'long', locale='en')}" in tasks
    submit(session, cycle, staffed.employee)
    page = _home(client)
    assert "Answer the survey" not in page and "Nothing is waiting for you" in page


def test_team_results_show_with_their_n_once_released(
    client, session, staffed, start_cycle, login_as
):
    cycle = _run(session, start_cycle, staffed, {"t1": 10, "t2": 10, "t3": 10})
    login_as(staffed.employee)
    figures = _figures(_home(client))
    assert f"{staffed.t1.name}: latest survey ({cycle.period})" in figures
    assert "Engagement (1–5)" in figures and "4.00" in figures
    assert "n = 10 answers" in figures and "+100" in figures  # everyone a promoter
    assert f'data-unit="{staffed.t1.id}" data-n="10"' in figures


def test_a_team_under_the_threshold_is_hidden_not_a_number(
    client, session, staffed, start_cycle, login_as
):
    _run(session, start_cycle, staffed, {"t1": 3, "t2": 10, "t3": 10})
    login_as(staffed.employee)
    figures = _figures(_home(client))
    assert "Hidden: too few answers" in figures
    assert "Engagement (1–5)" not in figures and "n = 3" not in figures
    assert f'data-unit="{staffed.t1.id}" data-n=""' in figures


def test_commitments_to_confirm_until_marked(client, session, staffed, start_cycle, login_as):
    cycle = _run(session, start_cycle, staffed, {"t1": 10, "t2": 10, "t3": 10})
    commitment = add_commitment(
        session=session,
        cycle=cycle,
        unit=staffed.s1,
        text="Fix the rota by Friday",
        user=staffed.manager,
    )
    session.commit()
    login_as(staffed.employee)
    tasks = _tasks(_home(client))
    assert "1 commitment to confirm" in tasks and "Fix the rota by Friday" in tasks
    mark_commitment(
        session=session, commitment=commitment, employee_id=staffed.employee.id, answer="yes"
    )
    assert "commitment to confirm" not in _tasks(_home(client))


def test_managers_see_the_response_rate_of_their_scope(
    client, session, staffed, start_cycle, login_as
):
    cycle = start_cycle(staffed)
    for person in staffed.people["t1"][:4] + staffed.people["t2"][:3]:
        submit(session, cycle, person)
    login_as(staffed.manager)
    figures = _figures(_home(client))
    assert "Survey open now: who has answered" in figures
    assert "29% (7 of 24)" in figures
    assert f'data-unit="{staffed.s1.id}" data-n="7"' in figures
    assert staffed.s2.name not in figures


def test_a_response_rate_under_the_threshold_is_hidden(
    client, session, staffed, start_cycle, login_as
):
    cycle = start_cycle(staffed)
    for person in staffed.people["t1"][:3]:
        submit(session, cycle, person)
    login_as(staffed.manager)
    figures = _figures(_home(client))
    assert "Hidden: too few answers yet (24 invited)" in figures
    assert "3 of 24" not in figures and "%" not in re.sub(r"\(1–5\)", "", figures)


def test_hr_sees_open_cycles_with_rates_and_time_left(
    client, session, staffed, start_cycle, login_as
):
    cycle = start_cycle(staffed, now=utcnow() - timedelta(days=1))
    for person in staffed.people["t2"][:6]:
        submit(session, cycle, person)
    login_as(staffed.hr)
    tasks = _tasks(_home(client))
    days = (cycle.closes_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)).days
    assert f"({cycle.period}) is open</strong>, {days} days left" in tasks
    assert "6 of 37 answered (16%)" in tasks
    assert f'href="/pulse/cycles/{cycle.id}/progress"' in tasks
    login_as(staffed.employee)
    assert "is open</strong>" not in _home(client)


def test_hr_sees_units_with_results_but_no_commitment(
    client, session, staffed, start_cycle, login_as
):
    cycle = _run(session, start_cycle, staffed, {"t1": 10, "t2": 10, "t3": 10})
    login_as(staffed.hr)
    tasks = _tasks(_home(client))
    # C, R1, R2, S1, S2, T1, T2, T3 were all released.
    assert "8 units with results out but no action plan yet</strong>" in tasks
    assert "and 5 more" in tasks and 'href="/pulse/follow-through"' in tasks
    for unit in (
        staffed.company,
        staffed.r1,
        staffed.r2,
        staffed.s1,
        staffed.s2,
        staffed.t1,
        staffed.t2,
    ):
        add_commitment(session=session, cycle=cycle, unit=unit, text="Do it", user=staffed.hr)
    session.commit()
    tasks = _tasks(_home(client))
    assert "1 unit with results out but no action plan yet" in tasks and staffed.t3.name in tasks
