"""A German reader sees the fixes pages in German, with German numbers and dates."""

import re

from flask_babel import refresh

GERMAN = {"Accept-Language": "de"}
NBSP = "\u00a0"


def fetch(client, url, headers=None):
    """One request in its own language: the test keeps one app context across requests, so
    Flask-Babel's cached locale is cleared first, as a new request's context would be."""
    refresh()
    return client.get(url, headers=headers or {})


def test_a_german_manager_sees_the_team_page_in_german(client, fixes_setup, log_fixes, login_as):
    org = fixes_setup
    log_fixes(org.t1, 4, each=3)
    log_fixes(org.t1, 1, each=3, actions=("goodwill",), goodwill=80)
    login_as(org.manager)
    text = fetch(client, f"/fixes/team?unit={org.t1.code}", GERMAN).get_data(as_text=True)
    assert f"Wie {org.t1.name} die eigene Befugnis nutzt" in text
    assert "<strong>15</strong> Lösungen, erfasst von 5 Personen" in text
    assert f"<strong>80{NBSP}%</strong> direkt vor Ort gelöst" in text
    assert "Direkt vor Ort gelöst, im Rahmen der eigenen Befugnis" in text
    assert "fixes logged by" not in text


def test_a_german_employee_sees_their_own_list_with_german_dates(
    client, fixes_setup, log_fixes, login_as
):
    (person,) = log_fixes(fixes_setup.t1, 1, each=1, actions=("goodwill",), goodwill=12.5)
    login_as(person)
    text = fetch(client, "/fixes/", GERMAN).get_data(as_text=True)
    assert "Meine Lösungen" in text and "Nur Sie sehen diese Liste." in text
    assert "Kulanz 12,50 GBP" in text
    assert re.search(r"<time [^>]*>\d\d\.\d\d\.\d\d, \d\d:\d\d</time>", text)
