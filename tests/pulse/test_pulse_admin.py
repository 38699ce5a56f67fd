"""HR: the question bank, programmes, opening and closing cycles from the pages."""

from datetime import UTC, datetime, time, timedelta

import pytest
from babel.dates import format_date
from sqlmodel import select

from trainer.pulse.bank import ensure_default_bank
from trainer.pulse.cycles import open_now
from trainer.pulse.models import (
    CycleItem,
    ProgrammeItem,
    PulseCycle,
    PulseError,
    PulseItem,
    PulseProgramme,
)
from trainer.pulse.programmes import (
    ProgrammeInput,
    audience_size,
    audience_tree,
    ensure_default_programme,
    programme_item_ids,
    programme_unit_ids,
    save_programme,
)
from trainer.scheduler import run_all
from trainer.util import utcnow


def test_hr_adds_retires_and_rewords_items(client, session, org, login_as):
    programme = ensure_default_programme(org.company, utcnow().date(), session=session)
    session.commit()
    login_as(org.hr)
    response = client.post(
        "/pulse/items",
        data={
            "theme": "recognition",
            "kind": "likert",
            "text": "People here say thank you for help.",
        },
    )
    assert response.status_code == 302
    added = session.exec(
        select(PulseItem).where(PulseItem.text == "People here say thank you for help.")
    ).one()
    assert added.code == "REC-3" and added.active

    bad = client.post(
        "/pulse/items",
        data={"theme": "pride", "kind": "enps", "text": "Rate us from zero to ten please."},
    )
    assert bad.status_code == 400 and "eNPS theme only" in bad.get_data(as_text=True)

    old = session.exec(select(PulseItem).where(PulseItem.code == "EMP-1")).one()
    cycle = open_now(programme, session=session, now=utcnow())
    response = client.post(
        f"/pulse/items/{old.id}/reword",
        data={"text": "I can solve a customer's problem on the spot."},
    )
    assert response.status_code == 302
    session.expire_all()
    new = session.exec(select(PulseItem).where(PulseItem.replaces_id == old.id)).one()
    assert not session.get(PulseItem, old.id).active and new.theme == "empowerment"
    in_programme = set(programme_item_ids(programme, session=session))
    assert new.id in in_programme and old.id not in in_programme
    # The cycle already running keeps the wording it was asked with.
    asked = set(session.exec(select(CycleItem.item_id).where(CycleItem.cycle_id == cycle.id)))
    assert old.id in asked and new.id not in asked

    response = client.post(f"/pulse/items/{new.id}/retire", data={})
    assert response.status_code == 302
    session.expire_all()
    assert not session.get(PulseItem, new.id).active
    assert not session.exec(select(ProgrammeItem).where(ProgrammeItem.item_id == new.id)).all()
    page = client.get("/pulse/items").get_data(as_text=True)
    assert "Retired" in page and new.code in page


def test_hr_creates_and_edits_a_programme_with_checked_input(client, session, org, login_as):
    items = ensure_default_bank(session=session)
    session.commit()
    login_as(org.hr)
    form = {
        "name": "Monthly care pulse",
        "item_ids": [items[0].id, items[-1].id],
        "unit_ids": [org.s1.id],
        "recurrence": "monthly",
        "starts_on": "2026-12-01",
        "window_days": "7",
        "reminder_days": "2,5",
        "budget_per_quarter": "3",
        "comment_prompt": "",
    }
    response = client.post("/pulse/programmes/new", data=form)
    assert response.status_code == 302
    programme = session.exec(
        select(PulseProgramme).where(PulseProgramme.name == "Monthly care pulse")
    ).one()
    assert (
        programme.recurrence,
        programme.window_days,
        programme.reminder_days,
        programme.budget_per_quarter,
    ) == ("monthly", 7, "2,5", 3)
    assert programme_unit_ids(programme, session=session) == [org.s1.id]

    bad = client.post(f"/pulse/programmes/{programme.id}", data=dict(form, reminder_days="9"))
    assert bad.status_code == 400 and "inside the window" in bad.get_data(as_text=True)
    bad = client.post(f"/pulse/programmes/{programme.id}", data=dict(form, reminder_days="3;x"))
    assert bad.status_code == 400 and "separated by commas" in bad.get_data(as_text=True)
    blank = client.post(f"/pulse/programmes/{programme.id}", data=dict(form, reminder_days="\t"))
    assert blank.status_code == 302  # whitespace alone means no reminders, not a crash
    session.expire_all()
    assert session.get(PulseProgramme, programme.id).reminder_days == ""
    bad = client.post(f"/pulse/programmes/{programme.id}", data=dict(form, item_ids=[]))
    assert bad.status_code == 400 and "at least one item" in bad.get_data(as_text=True)
    ok = client.post(f"/pulse/programmes/{programme.id}", data=dict(form, window_days="10"))
    assert ok.status_code == 302
    session.expire_all()
    assert session.get(PulseProgramme, programme.id).window_days == 10


def test_hr_opens_a_cycle_now_and_the_scheduler_sends_invitations_once(
    app, client, session, staffed, login_as, mailbox
):
    programme = ensure_default_programme(staffed.company, utcnow().date(), session=session)
    session.commit()
    login_as(staffed.hr)
    response = client.post(f"/pulse/programmes/{programme.id}/open", data={})
    assert response.status_code == 302
    cycle = session.exec(select(PulseCycle)).one()
    assert cycle.status == "open" and mailbox == []
    again = client.post(f"/pulse/programmes/{programme.id}/open", data={})
    assert again.status_code == 302 and len(session.exec(select(PulseCycle)).all()) == 1
    run_all(app)
    run_all(app)
    assert len(mailbox) == 37 and len({m["To"] for m in mailbox}) == 37

    response = client.post(f"/pulse/cycles/{cycle.id}/close", data={})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(PulseCycle, cycle.id).status == "open"  # no more answers, though:
    login_as(staffed.employee)
    assert "closed" in client.get(f"/pulse/cycles/{cycle.id}/answer").get_data(as_text=True)
    run_all(app)  # the scheduler opens the sealed answers and closes the cycle
    session.expire_all()
    assert session.get(PulseCycle, cycle.id).status == "closed"
    login_as(staffed.hr)
    page = client.get(f"/pulse/programmes/{programme.id}").get_data(as_text=True)
    assert "Closed" in page and f"/pulse/results?cycle={cycle.id}" in page


def test_open_now_disappears_once_the_period_is_open(client, session, org, login_as):
    programme = ensure_default_programme(org.company, utcnow().date(), session=session)
    session.commit()
    login_as(org.hr)
    page = client.get(f"/pulse/programmes/{programme.id}").get_data(as_text=True)
    assert "Open this period's cycle now" in page
    assert client.post(f"/pulse/programmes/{programme.id}/open", data={}).status_code == 302
    page = client.get(f"/pulse/programmes/{programme.id}").get_data(as_text=True)
    assert "Open this period's cycle now" not in page
    assert "cycle" in page and "is open." in page


def test_a_one_off_programme_never_opens_before_its_first_day(client, session, org, login_as):
    items = ensure_default_bank(session=session)
    starts = utcnow().date() + timedelta(days=10)
    programme = save_programme(
        ProgrammeInput(
            name="One-off check-in",
            item_ids=[items[0].id],
            unit_ids=[org.company.id],
            recurrence="once",
            starts_on=starts,
        ),
        session=session,
    )
    session.commit()
    login_as(org.hr)
    page = client.get(f"/pulse/programmes/{programme.id}").get_data(as_text=True)
    assert "Open this period's cycle now" not in page
    assert f"starts on {format_date(starts, 'long', locale='en')}" in page
    # Posting anyway (an old tab) is refused with the reason, and opens nothing.
    response = client.post(f"/pulse/programmes/{programme.id}/open", data={}, follow_redirects=True)
    assert response.status_code == 200
    assert "cannot open before then" in response.get_data(as_text=True)
    assert session.exec(select(PulseCycle)).all() == []
    with pytest.raises(PulseError, match="cannot open before then"):
        open_now(programme, session=session, now=utcnow())
    opened = open_now(programme, session=session, now=datetime.combine(starts, time(9), UTC))
    assert opened.status == "open"


def test_the_audience_picker_is_a_tree_with_the_count_of_people_invited(
    client, session, staffed, login_as
):
    programme = ensure_default_programme(staffed.company, utcnow().date(), session=session)
    session.commit()
    login_as(staffed.hr)
    page = client.get(f"/pulse/programmes/{programme.id}").get_data(as_text=True)
    assert "<strong data-audience-count>37</strong>" in page  # as many as a cycle invites
    assert "Hold Ctrl" not in page and "Cmd" not in page

    # T1's box sits inside S1's branch, which says what ticking it includes.
    def box(unit):
        return page.index(f'name="unit_ids" value="{unit.id}"')

    assert box(staffed.s1) < box(staffed.t1) < box(staffed.s2)
    assert "2 units below, included when ticked" in page
    tree = audience_tree(session=session)
    assert audience_size(tree, {staffed.s1.id}) == 12 + 12 + 1  # T1, T2, the manager
    assert audience_size(tree, {staffed.s1.id, staffed.t1.id}) == 25
    assert audience_size(tree, set()) == 0
    # A rejected form keeps the ticked units and their count.
    form = {
        "name": "",
        "item_ids": programme_item_ids(programme, session=session),
        "unit_ids": [staffed.t3.id],
        "recurrence": "quarterly",
        "starts_on": "2026-12-01",
        "window_days": "7",
        "reminder_days": "",
        "budget_per_quarter": "2",
    }
    response = client.post(f"/pulse/programmes/{programme.id}", data=form)
    assert response.status_code == 400
    assert "<strong data-audience-count>11</strong>" in response.get_data(as_text=True)
