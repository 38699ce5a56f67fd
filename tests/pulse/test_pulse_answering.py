"""Employees answer: the privacy page, the form, one answer per cycle, and quiet logs."""

import json
import logging

import sqlalchemy as sa

from tests.pulse.conftest import items_of, submit
from trainer import seal
from trainer.pulse.bank import ensure_default_bank
from trainer.pulse.cycles import close_cycle, open_now
from trainer.pulse.models import PulseProgramme, ResponsePool, SurveyParticipation, SurveyResponse
from trainer.pulse.pool import flush_waiting_pools
from trainer.pulse.programmes import ProgrammeInput, programme_item_ids, save_programme
from trainer.pulse.submit import invitation_for


def _form(session, cycle, likert="4", enps="9", comment=""):
    data = {
        f"item-{i.id}": (enps if i.kind == "enps" else likert) for i in items_of(session, cycle)
    }
    data["comment"] = comment
    return data


def _count(session, model):
    return session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def test_default_pulse_is_short_and_uses_our_own_scales(session, org):
    items = ensure_default_bank(session=session)
    assert 1 <= len(items) <= 10
    assert sum(i.kind == "enps" for i in items) == 1
    themes = {i.theme for i in items}
    assert {
        "empowerment",
        "tools_time",
        "recognition",
        "manager_action",
        "pride",
        "customer_focus",
        "wellbeing",
        "enps",
    } <= themes
    q12_phrases = (
        "know what is expected of me",
        "best friend at work",
        "opportunity to do what i do best",
        "materials and equipment",
    )
    for item in items:
        assert not any(p in item.text.lower() for p in q12_phrases)


def test_employee_sees_the_survey_and_who_can_see_what(
    client, session, staffed, start_cycle, login_as
):
    cycle = start_cycle(staffed)
    login_as(staffed.employee)
    page = client.get("/pulse/").get_data(as_text=True)
    assert f"/pulse/cycles/{cycle.id}/answer" in page and "Who can see what" in page
    first = client.get(f"/pulse/cycles/{cycle.id}/answer").get_data(as_text=True)
    assert "Stored without your name" in first and "<fieldset" not in first
    assert f"/pulse/cycles/{cycle.id}/answer?ready=1" in first
    form = client.get(f"/pulse/cycles/{cycle.id}/answer?ready=1").get_data(as_text=True)
    assert "/pulse/privacy" in form and "identify you" in form
    assert f'action="/pulse/cycles/{cycle.id}/answer"' in form  # POST without a query string
    assert form.count("<fieldset") == len(items_of(session, cycle))
    assert form.count("<legend>") == len(items_of(session, cycle))
    privacy = client.get("/pulse/privacy").get_data(as_text=True)
    for phrase in (
        "Stored with your name",
        "without your name",
        "at least 5",
        "at least 10",
        "cannot be changed, exported or deleted",
        "voluntary",
        "opens a random batch of them and leaves 10 sealed",
        "sealed",
        "only a sealed copy they cannot read",
        "at least 10 opened together",
        "the database and the scheduler's secret key",
    ):
        assert phrase in privacy


def test_answering_stores_participation_and_pooled_answers_only_once(
    client, session, staffed, start_cycle, login_as
):
    cycle = start_cycle(staffed)
    login_as(staffed.employee)
    url = f"/pulse/cycles/{cycle.id}/answer"
    response = client.post(url, data=_form(session, cycle, comment="More cover on Saturdays"))
    assert response.status_code == 302 and "/thanks" in response.location
    assert _count(session, SurveyParticipation) == 1
    pooled = session.exec(sa.select(ResponsePool)).scalars().all()
    assert len(pooled) == 1 and b"More cover" not in pooled[0].sealed  # sealed, not plain
    opened = json.loads(seal.opener(client.application).open(pooled[0].sealed))
    assert opened["c"] == "More cover on Saturdays" and set(opened) == {"g", "a", "c"}
    again = client.post(url, data=_form(session, cycle, likert="1"))
    assert again.status_code == 200 and "already answered" in again.get_data(as_text=True)
    assert _count(session, SurveyParticipation) == 1
    assert _count(session, ResponsePool) + _count(session, SurveyResponse) == 1
    assert "already answered" in client.get(url).get_data(as_text=True)


def test_missing_answers_are_shown_next_to_the_question(
    client, session, staffed, start_cycle, login_as
):
    cycle = start_cycle(staffed)
    login_as(staffed.employee)
    data = _form(session, cycle)
    first = items_of(session, cycle)[0]
    del data[f"item-{first.id}"]
    data[f"item-{items_of(session, cycle)[1].id}"] = "9"  # out of the 1-5 scale
    response = client.post(f"/pulse/cycles/{cycle.id}/answer", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert page.count("Choose one answer.") >= 4  # two in the summary, two by the questions
    assert _count(session, SurveyParticipation) == 0


def test_people_not_invited_and_closed_cycles_are_refused_politely(
    client, session, staffed, start_cycle, login_as, make_user
):
    cycle = start_cycle(staffed, roots=[staffed.s1])
    outsider = staffed.people["t3"][0]
    login_as(outsider)
    response = client.post(f"/pulse/cycles/{cycle.id}/answer", data=_form(session, cycle))
    assert response.status_code == 404 and _count(session, SurveyParticipation) == 0
    close_cycle(cycle, session=session, now=cycle.opens_at)
    login_as(staffed.employee)
    response = client.post(f"/pulse/cycles/{cycle.id}/answer", data=_form(session, cycle))
    assert response.status_code == 200 and "closed" in response.get_data(as_text=True)
    assert _count(session, SurveyParticipation) == 0


def test_survey_budget_limits_invitations_per_quarter(session, staffed, start_cycle):
    first = start_cycle(staffed)
    second_programme = save_programme(
        ProgrammeInput(
            name="Second",
            item_ids=programme_item_ids(
                session.get(PulseProgramme, first.programme_id), session=session
            ),
            unit_ids=[staffed.company.id],
            budget_per_quarter=1,
            starts_on=first.opens_at.date(),
        ),
        session=session,
    )
    session.commit()
    second = open_now(second_programme, session=session, now=first.opens_at)
    assert invitation_for(first, staffed.employee, session=session) is not None
    assert invitation_for(second, staffed.employee, session=session) is None


def test_logs_never_contain_answers_or_comments(
    client, session, staffed, start_cycle, login_as, caplog
):
    caplog.set_level(logging.DEBUG)
    cycle = start_cycle(staffed)
    secret = "zebra-crossing-417"
    login_as(staffed.employee)
    client.post(f"/pulse/cycles/{cycle.id}/answer", data=_form(session, cycle, comment=secret))
    for person in staffed.people["t2"]:
        submit(session, cycle, person, comment=f"{secret}-{person.id}")
    flush_waiting_pools(session=session, now=cycle.opens_at)
    close_cycle(cycle, session=session, now=cycle.closes_at)
    assert "took part in pulse cycle" in caplog.text  # logging works, and says only this
    assert secret not in caplog.text
    assert '"' + str(items_of(session, cycle)[0].id) + '":' not in caplog.text  # no JSON
