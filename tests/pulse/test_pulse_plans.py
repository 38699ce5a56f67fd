"""Action plans: managers record and update actions, employees confirm anonymously, HR sees
follow-through for every unit with released results, and the scheduler nudges managers once."""

import json
import re
from datetime import date, timedelta

import pytest
from sqlmodel import select

from trainer.audit import AuditEntry
from trainer.pulse import plans
from trainer.pulse.cycles import aware
from trainer.pulse.ledger import commitments_for, released_tallies
from trainer.pulse.models import ActionNudge, ActionUpdate
from trainer.pulse.pool import flush_waiting_pools
from trainer.scheduler import jobs, run_job

TODAY = date.today()


def _text(response) -> str:
    """The page's visible text, tags removed and whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]*>", " ", response.get_data(as_text=True)).split())


def _action_data(org, **changes):
    data = {
        "text": "Second person on the desk on Saturdays",
        "answers": "theme:wellbeing",
        "owner_id": str(org.manager.id),
        "due_on": str(TODAY + timedelta(days=30)),
        "details": "From the next rota.",
    }
    return {**data, **changes}


@pytest.fixture
def released(staffed, run_cycle):
    """A closed cycle whose results are out for C, R1, S1, T1, T2 (and T3, R2, S2)."""
    return run_cycle(staffed, {"t1": 10, "t2": 11, "t3": 6})


def _actions(session, unit):
    return commitments_for({unit.id}, session=session)


def test_manager_reaches_the_plan_from_results_and_records_actions(
    client, session, staffed, released, login_as
):
    login_as(staffed.manager)
    results = client.get(f"/pulse/results/{staffed.t1.id}")
    assert "No action plan yet" in _text(results)
    assert f'href="/pulse/plans/{staffed.t1.id}"' in results.get_data(as_text=True)

    page = client.get(f"/pulse/plans/{staffed.t1.id}")
    assert page.status_code == 200 and "No actions yet" in _text(page)
    response = client.post(f"/pulse/plans/{staffed.t1.id}", data=_action_data(staffed))
    assert response.status_code == 302
    [action] = _actions(session, staffed.t1)
    assert (action.owner_id, action.due_on, action.theme, action.status, action.cycle_id) == (
        staffed.manager.id,
        TODAY + timedelta(days=30),
        "wellbeing",
        "planned",
        released.id,
    )

    page = _text(client.get(f"/pulse/plans/{staffed.t1.id}"))
    assert "Second person on the desk on Saturdays" in page and "Planned" in page
    assert f"Owner: {staffed.manager.name}" in page and "Answers: Wellbeing and workload" in page
    assert "History (1 update)" in page
    results = _text(client.get(f"/pulse/results/{staffed.t1.id}"))
    assert f"1 action for {released.period}" in results and "Open the action plan" in results

    form = f"a{action.id}"
    response = client.post(
        f"/pulse/actions/{action.id}/status",
        data={f"{form}-status": "in_progress", f"{form}-note": "Rota drafted."},
    )
    assert response.status_code == 302
    client.post(
        f"/pulse/actions/{action.id}/status",
        data={f"{form}-status": "done", f"{form}-note": "Two on the desk since May."},
    )
    session.refresh(action)
    assert action.status == "done"
    updates = session.exec(
        select(ActionUpdate)
        .where(ActionUpdate.commitment_id == action.id)
        .order_by(ActionUpdate.id)
    ).all()
    assert [(u.status, u.note) for u in updates] == [
        ("planned", "Added to the plan."),
        ("in_progress", "Rota drafted."),
        ("done", "Two on the desk since May."),
    ]
    page = _text(client.get(f"/pulse/plans/{staffed.t1.id}"))
    assert "History (3 updates)" in page and "Rota drafted." in page
    [entry] = client.get(f"/pulse/results/{staffed.t1.id}.json").get_json()["ledger"]
    assert (entry["status"], entry["due_on"], entry["theme"]) == (
        "done",
        str(TODAY + timedelta(days=30)),
        "wellbeing",
    )

    entries = session.exec(
        select(AuditEntry).where(AuditEntry.action.like("action.%")).order_by(AuditEntry.id)
    ).all()
    assert [e.action for e in entries] == ["action.create", "action.status", "action.status"]
    assert json.loads(entries[-1].detail) == {"unit": "T1", "from": "in_progress", "to": "done"}
    assert all(e.actor_id == staffed.manager.id and e.target_id == action.id for e in entries)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"text": "  "}, "text", "Write what you will do."),
        ({"due_on": str(TODAY - timedelta(days=1))}, "due_on", "between today and a year from now"),
        ({"due_on": str(TODAY + timedelta(days=400))}, "due_on", "a year from now"),
        ({"due_on": "next week"}, "due_on", "Give a due date, for example"),
        ({"answers": ""}, "answers", "Choose the theme or question this action answers."),
        ({"answers": "theme:nonsense"}, "answers", "Not a valid choice"),
        ({"owner_id": "999999"}, "owner_id", "Not a valid choice"),
        ({"owner_id": "abc"}, "owner_id", "Invalid Choice"),
    ],
)
def test_bad_actions_are_refused_with_a_message_and_keep_the_input(
    client, session, staffed, released, login_as, changes, field, message
):
    login_as(staffed.manager)
    response = client.post(f"/pulse/plans/{staffed.t1.id}", data=_action_data(staffed, **changes))
    assert response.status_code == 400
    error = re.search(
        rf'<p class="error" id="{field}-error">(.*?)</p>', response.get_data(as_text=True), re.S
    )
    assert error and message in error.group(1)  # said next to the field it is about
    assert "From the next rota." in response.get_data(as_text=True)  # nothing typed is lost
    assert _actions(session, staffed.t1) == []


def test_a_status_update_needs_a_note_and_a_known_status(
    client, session, staffed, released, login_as
):
    login_as(staffed.manager)
    client.post(f"/pulse/plans/{staffed.t1.id}", data=_action_data(staffed))
    [action] = _actions(session, staffed.t1)
    prefix = f"a{action.id}"
    for data, message in (
        ({f"{prefix}-status": "done", f"{prefix}-note": " "}, "Write a short note"),
        ({f"{prefix}-status": "finished", f"{prefix}-note": "ok"}, "Not a valid choice"),
    ):
        response = client.post(f"/pulse/actions/{action.id}/status", data=data)
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    session.refresh(action)
    assert action.status == "planned"


def test_dropped_actions_free_a_place_in_the_plan(client, session, staffed, released, login_as):
    login_as(staffed.manager)
    for n in range(3):
        assert (
            client.post(
                f"/pulse/plans/{staffed.t1.id}", data=_action_data(staffed, text=f"Action {n}")
            ).status_code
            == 302
        )
    assert (
        client.post(
            f"/pulse/plans/{staffed.t1.id}", data=_action_data(staffed, text="Fourth")
        ).status_code
        == 400
    )
    first = _actions(session, staffed.t1)[0]
    client.post(
        f"/pulse/actions/{first.id}/status",
        data={f"a{first.id}-status": "dropped", f"a{first.id}-note": "No budget."},
    )
    assert (
        client.post(
            f"/pulse/plans/{staffed.t1.id}", data=_action_data(staffed, text="Fourth")
        ).status_code
        == 302
    )


def test_roles_and_scope(client, session, staffed, released, login_as):
    login_as(staffed.hr)
    assert (
        client.post(
            f"/pulse/plans/{staffed.t3.id}", data=_action_data(staffed, owner_id=str(staffed.hr.id))
        ).status_code
        == 302
    )  # HR plans anywhere
    [outside] = _actions(session, staffed.t3)
    login_as(staffed.manager)
    assert client.get(f"/pulse/plans/{staffed.t3.id}").status_code == 403
    assert (
        client.post(
            f"/pulse/actions/{outside.id}/status",
            data={f"a{outside.id}-status": "done", f"a{outside.id}-note": "x"},
        ).status_code
        == 403
    )
    assert "Plan an action" not in _text(client.get(f"/pulse/results/{staffed.t3.id}"))
    login_as(staffed.employee)
    assert client.get(f"/pulse/plans/{staffed.t1.id}").status_code == 403
    assert (
        client.post(f"/pulse/plans/{staffed.t1.id}", data=_action_data(staffed)).status_code == 403
    )
    assert client.get("/pulse/follow-through").status_code == 403
    results = _text(client.get(f"/pulse/results/{staffed.t1.id}"))
    assert "Plan an action" not in results and "Open the action plan" not in results
    session.refresh(outside)
    assert outside.status == "planned"


def test_the_old_ledger_address_leads_to_the_plan(client, staffed, released, login_as):
    login_as(staffed.manager)
    response = client.get(f"/pulse/ledger/{staffed.t1.id}")
    assert response.status_code == 301
    assert response.location.endswith(f"/pulse/plans/{staffed.t1.id}")
    assert client.get(f"/pulse/ledger/{staffed.t3.id}").status_code == 403


def test_employees_confirm_anonymously_and_see_the_status(
    client, session, staffed, released, login_as
):
    login_as(staffed.manager)
    client.post(f"/pulse/plans/{staffed.t1.id}", data=_action_data(staffed))
    [action] = _actions(session, staffed.t1)
    client.post(
        f"/pulse/actions/{action.id}/status",
        data={f"a{action.id}-status": "done", f"a{action.id}-note": "Done."},
    )
    for person in staffed.people["t1"][:10]:
        login_as(person)
        page = _text(client.get("/pulse/ledger"))
        assert "Second person on the desk on Saturdays" in page and "Done" in page
        assert (
            client.post(f"/pulse/commitments/{action.id}/mark", data={"answer": "yes"}).status_code
            == 302
        )
    # The marks wait sealed until a batch of 10 is flushed; then 5 or more are shown.
    assert released_tallies([action.id], session=session)[action.id] is None
    flush_waiting_pools(session=session, now=released.closes_at)
    assert released_tallies([action.id], session=session)[action.id]["yes"] == 10
    login_as(staffed.manager)
    assert "(n = 10)" in _text(client.get(f"/pulse/plans/{staffed.t1.id}"))


def test_hr_sees_every_released_unit_including_those_without_a_plan(
    client, session, staffed, released, login_as
):
    login_as(staffed.manager)
    client.post(f"/pulse/plans/{staffed.t1.id}", data=_action_data(staffed))
    login_as(staffed.hr)
    response = client.get("/pulse/follow-through")
    assert response.status_code == 200
    page = _text(response)
    shown = plans.released_unit_ids(released, session=session)
    assert {staffed.t1.id, staffed.t2.id, staffed.s1.id} <= shown
    rows = re.findall(r"<tr>.*?</tr>", response.get_data(as_text=True), re.S)[1:]
    assert len(rows) == len(shown)  # a row for every unit with released results
    t1_row = next(r for r in rows if f">{staffed.t1.name}<" in r)
    t2_row = next(r for r in rows if f">{staffed.t2.name}<" in r)
    assert "1 action: 1 planned" in _text_of(t1_row)
    days = plans.days_since_release(released, TODAY)
    assert f"No plan yet ({days} days since results)" in _text_of(t2_row)
    assert f"With an action plan 1 of {len(shown)}" in page

    assert {row.unit.id for row in plans.units_without_plan(session=session, today=TODAY)} == (
        shown - {staffed.t1.id}
    )

    missing = client.get(f"/pulse/follow-through?cycle={released.id}&show=no-plan")
    rows = re.findall(r"<tr>.*?</tr>", missing.get_data(as_text=True), re.S)[1:]
    assert len(rows) == len(shown) - 1
    assert not any(f">{staffed.t1.name}<" in r for r in rows)


def _text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]*>", " ", html).split())


def _add(session, org, unit, *, due, status="planned", cycle, updated=None):
    action = plans.add_action(
        session=session,
        cycle=cycle,
        unit=unit,
        title=f"Act on {unit.code}",
        details="",
        owner_id=org.manager.id,
        due_on=TODAY,
        user=org.manager,
        answers="theme:wellbeing",
        today=TODAY,
    )
    action.due_on = due
    action.status = status
    if updated is not None:
        action.status_at = updated
    session.add(action)
    session.commit()
    return action


def test_open_actions_lists_what_needs_a_look(app, session, staffed, released):
    from trainer.util import utcnow

    overdue = _add(session, staffed, staffed.t1, due=TODAY - timedelta(days=3), cycle=released)
    soon = _add(session, staffed, staffed.t2, due=TODAY + timedelta(days=5), cycle=released)
    stale = _add(
        session,
        staffed,
        staffed.s1,
        due=TODAY + timedelta(days=60),
        cycle=released,
        updated=utcnow() - timedelta(days=40),
    )
    _add(session, staffed, staffed.t1, due=TODAY - timedelta(days=3), status="done", cycle=released)
    _add(session, staffed, staffed.t2, due=TODAY + timedelta(days=60), cycle=released)
    _add(session, staffed, staffed.t3, due=TODAY - timedelta(days=9), cycle=released)

    scope = {staffed.s1.id, staffed.t1.id, staffed.t2.id}
    found = plans.open_actions(scope, TODAY, session=session)
    assert [(o.action.id, o.reason, o.days) for o in found] == [
        (overdue.id, "overdue", 3),
        (soon.id, "due soon", 5),
        (stale.id, "no update", 40),
    ]
    assert plans.open_actions(set(), TODAY, session=session) == []
    assert len(plans.open_actions(None, TODAY, session=session)) == 4


def test_the_managers_home_lists_actions_that_need_a_look(
    client, session, staffed, released, login_as
):
    overdue = _add(session, staffed, staffed.t1, due=TODAY - timedelta(days=3), cycle=released)
    _add(session, staffed, staffed.t2, due=TODAY + timedelta(days=60), cycle=released)
    login_as(staffed.manager)
    html = client.get("/").get_data(as_text=True)
    text = _text_of(html)
    assert "overdue by" in text and overdue.text in text
    assert f'href="/pulse/plans/{staffed.t1.id}#action-{overdue.id}"' in html
    assert "Act on T2" not in text  # due in two months, updated today: nothing to do yet
    assert f'href="/pulse/plans/{staffed.s1.id}">Action plan for {staffed.s1.name}' in html


def test_nudges_go_once_to_the_right_managers_through_smtp(
    app, session, staffed, released, make_user, mailbox
):
    team_lead = make_user(
        "employee,manager", staffed.t2, email="lead-t2@example.com", manages=[staffed.t2]
    )
    gone = make_user("employee,manager", staffed.t3, email="gone@example.com", manages=[staffed.t3])
    gone.active = False
    session.add(gone)
    session.commit()
    released_at = aware(released.closes_at)
    action = _add(
        session, staffed, staffed.t1, due=released_at.date() + timedelta(days=20), cycle=released
    )
    [job] = [j for j in jobs(app) if j.name == "pulse-nudges"]

    run_job(app, job, now=released_at + timedelta(days=13))  # too early for anyone
    mailbox.deliver()
    assert [m["Subject"] for m in mailbox] == []

    run_job(app, job, now=released_at + timedelta(days=15))
    assert mailbox.deliver() == 2
    got = {m["To"]: m for m in mailbox}
    assert set(got) == {staffed.manager.email, team_lead.email}  # S1 and T2: no action
    assert "no action plan yet" in got[team_lead.email]["Subject"]
    assert f"/pulse/plans/{staffed.t2.id}" in got[team_lead.email].get_content()
    assert f"/pulse/plans/{staffed.s1.id}" in got[staffed.manager.email].get_content()

    run_job(app, job, now=released_at + timedelta(days=16))  # sent once, never again
    assert mailbox.deliver() == 0

    late = action.due_on + timedelta(days=1)
    now = released_at.replace(year=late.year, month=late.month, day=late.day)
    run_job(app, job, now=now)
    run_job(app, job, now=now + timedelta(hours=1))
    assert mailbox.deliver() == 1
    overdue = mailbox[-1]
    assert overdue["To"] == staffed.manager.email and "Overdue action" in overdue["Subject"]
    assert "Act on T1" in overdue.get_content()

    plans.update_status(
        session=session, action=action, status="done", note="Done.", user=staffed.manager
    )
    session.commit()
    run_job(app, job, now=now + timedelta(days=30))  # done: no more nudges about it
    assert mailbox.deliver() == 0
    assert len(session.exec(select(ActionNudge)).all()) == 3
