"""Who still has a card to use: counts per unit of people without email who have not answered
the open survey, under the anonymity rules; never names."""

import html

import pytest

from tests.pulse.conftest import submit
from trainer.auth.models import User
from trainer.kiosk.services import still_to_answer


@pytest.fixture
def card_team(session, staffed):
    """12 people without email join T1 before the survey opens."""
    people = [
        User(employee_number=f"C-{n}", name=f"Card {n}", unit_id=staffed.t1.id) for n in range(12)
    ]
    session.add_all(people)
    session.commit()
    staffed.card_people = people
    return staffed


def _counts(app, session, cycle, scope=None):
    with app.app_context():
        return {
            row.unit.code: row.to_answer for row in still_to_answer(cycle, scope, session=session)
        }


def test_counts_show_who_is_left_once_enough_have_answered_on_both_sides(
    app, session, card_team, start_cycle
):
    cycle = start_cycle(card_team)
    for person in card_team.card_people[:5]:
        submit(session, cycle, person)
    session.commit()
    counts = _counts(app, session, cycle)
    assert counts["T1"] == 7 and counts["S1"] == 7 and counts["C"] == 7
    assert "T2" not in counts and "T3" not in counts  # nobody there uses a card


def test_too_few_answered_by_card_hides_the_count(app, session, card_team, start_cycle):
    cycle = start_cycle(card_team)
    for person in card_team.card_people[:3]:
        submit(session, cycle, person)
    session.commit()
    assert _counts(app, session, cycle)["T1"] is None  # "9 left" would say 3 of 12 answered


def test_a_small_rest_of_the_unit_hides_the_count(app, session, card_team, start_cycle):
    cycle = start_cycle(card_team)
    for person in card_team.card_people[:5] + card_team.people["t1"][:2]:
        submit(session, cycle, person)
    session.commit()
    # With the live response count (7 in T1), "7 left of 12 card holders" would show that 2
    # people with email answered: under the minimum of 5.
    assert _counts(app, session, cycle)["T1"] is None


def test_too_many_left_is_shown_and_nobody_left_is_not(app, session, card_team, start_cycle):
    cycle = start_cycle(card_team)
    for person in card_team.card_people:
        submit(session, cycle, person)
    session.commit()
    assert _counts(app, session, cycle)["T1"] is None  # "0 left" would say all 12 answered


def test_the_page_is_counts_only_and_follows_the_managers_scope(
    client, login_as, session, card_team, start_cycle
):
    cycle = start_cycle(card_team)
    for person in card_team.card_people[:5]:
        submit(session, cycle, person)
    session.commit()
    login_as(card_team.manager)
    page = html.unescape(client.get("/kiosk/cards/still-to-use").get_data(as_text=True))
    assert "Card holders still to answer" in page
    assert ">T1<" in page and ">T3<" not in page  # S1's teams only
    assert "Card 5" not in page and "Card 0" not in page  # never names
    assert '<td class="num">7</td>' in page


def test_without_an_open_survey_the_page_says_so(client, login_as, org):
    login_as(org.hr)
    page = html.unescape(client.get("/kiosk/cards/still-to-use").get_data(as_text=True))
    assert "No survey is open" in page
