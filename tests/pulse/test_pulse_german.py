"""A German reader sees the pulse results in German, with German dates and percentages; the
downloads stay machine-readable whatever the reader's language."""

from datetime import date, timedelta

from flask_babel import refresh
from sqlmodel import select

from trainer.mail import OutboxMessage
from trainer.pulse import plans
from trainer.pulse.cycles import send_due_reminders

GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}
NBSP = "\u00a0"


def fetch(client, url, headers=None):
    """One request in its own language: the test keeps one app context across requests, so
    Flask-Babel's cached locale is cleared first, as a new request's context would be."""
    refresh()
    return client.get(url, headers=headers or {})


def test_a_german_reader_sees_the_results_page_in_german(
    client, session, staffed, run_cycle, login_as
):
    cycle = run_cycle(staffed, {"t1": 10, "t2": 11, "t3": 6})
    due = date(2027, 1, 31)
    plans.add_action(
        session=session,
        cycle=cycle,
        unit=staffed.t1,
        title="Zweite Person am Schalter",
        details="",
        owner_id=staffed.manager.id,
        due_on=due,
        answers="theme:empowerment",
        user=staffed.manager,
        today=due - timedelta(days=30),
    )
    session.commit()
    login_as(staffed.manager)

    page = fetch(client, f"/pulse/results/{staffed.t1.id}?cycle={cycle.id}", GERMAN)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="de">' in text
    for words in ("Zusammenfassung", "Antwortquote", "Was das Engagement hier bewegt", "Verlauf"):
        assert words in text, words
    assert "Response rate" not in text and "Summary" not in text
    assert f"(83{NBSP}%)" in text  # 10 of 12 answered, as a German percentage
    assert "Fällig am 31.01.2027" in text  # the action's due date, German style
    # The chart words come from the server in German too.
    assert "Engagement-Index" in text

    english = fetch(client, f"/pulse/results/{staffed.t1.id}?cycle={cycle.id}").get_data(
        as_text=True
    )
    assert "Summary" in english and "(83%)" in english and "Due Jan 31, 2027" in english


def test_the_results_downloads_do_not_change_with_the_language(
    client, staffed, run_cycle, login_as
):
    cycle = run_cycle(staffed, {"t1": 10, "t2": 11, "t3": 6})
    login_as(staffed.manager)
    for url in (
        f"/pulse/cycles/{cycle.id}/results.csv",
        f"/pulse/results/{staffed.t1.id}.json?cycle={cycle.id}",
    ):
        english = fetch(client, url)
        german = fetch(client, url, GERMAN)
        if url.endswith(".csv"):
            assert german.get_data() == english.get_data(), url
            continue
        # Only the fields documented as the reader's (`language`, `reader_text`) differ.
        english, german = english.get_json(), german.get_json()
        assert (english["language"], german["language"]) == ("en", "de")
        assert without_reader_fields(german) == without_reader_fields(english), url


def without_reader_fields(value):
    if isinstance(value, dict):
        return {
            k: without_reader_fields(v)
            for k, v in value.items()
            if k not in ("language", "reader_text")
        }
    if isinstance(value, list):
        return [without_reader_fields(v) for v in value]
    return value


def test_invitations_go_out_in_each_recipients_language(session, staffed, start_cycle):
    german, english = staffed.people["t1"][1], staffed.people["t1"][2]
    german.locale = "de"
    session.commit()
    cycle = start_cycle(staffed)
    send_due_reminders(cycle, session=session, now=cycle.opens_at + timedelta(minutes=1))
    session.commit()
    mail = {m.recipient: m for m in session.exec(select(OutboxMessage)).all()}
    assert mail[german.email].subject.endswith("ist offen: 3 Minuten, anonym")
    assert "Ihre Antworten sind anonym." in mail[german.email].body
    assert mail[english.email].subject.endswith("is open: 3 minutes, anonymous")
    assert "Your answers are anonymous." in mail[english.email].body
