"""A German reader sees the insights overview and statistics in German, worded again from the
stored numbers; the JSON report and CSV exports stay in English with plain numbers."""

import re

from flask_babel import refresh

GERMAN = {"Accept-Language": "de"}


def fetch(client, url, headers=None):
    """One request in its own language: the test keeps one app context across requests, so
    Flask-Babel's cached locale is cleared first, as a new request's context would be."""
    refresh()
    return client.get(url, headers=headers or {})


def test_a_german_manager_sees_the_dashboard_in_german(client, login_as, history):
    login_as(history.manager)
    url = f"/insights/units/{history.s1.id}"
    text = fetch(client, url, GERMAN).get_data(as_text=True)
    assert f"So steht {history.s1.name} da" in text
    for words in ("Stimmung", "Korrelation, nicht Kausalität", "Wie wir das berechnet haben"):
        assert words in text, words
    assert "How we worked this out" not in text
    assert re.search(r'<p class="big">\d,\d\d <span class="unit">von 5</span>', text)
    # The English page, rendered in the same process, is not served from the German cache.
    english = fetch(client, url).get_data(as_text=True)
    assert "How we worked this out" in english and "Wie wir das berechnet haben" not in english


def test_the_statistics_are_worded_in_german_and_the_downloads_stay_english(
    client, login_as, history
):
    login_as(history.manager)
    detail = fetch(client, f"/insights/units/{history.s1.id}/detail", GERMAN)
    text = detail.get_data(as_text=True)
    assert "Was die Daten sagen" in text and "Alle Statistiken" in text
    headline = re.search(r'<p class="sentence">([^<]+)</p>', text).group(1)
    assert "Stimmung" in headline  # worded again in German from the stored numbers
    assert "morale" not in headline and "Needs at least" not in headline

    report = fetch(client, f"/insights/api/units/{history.s1.id}/report.json", GERMAN)
    sentence = report.get_json()["headline"]["sentence"]
    assert "morale" in sentence and "Stimmung" not in sentence
    export = fetch(
        client, f"/insights/units/{history.s1.id}/export.csv?table=lags", headers=GERMAN
    ).get_data(as_text=True)
    english = fetch(client, f"/insights/units/{history.s1.id}/export.csv?table=lags")
    assert export == english.get_data(as_text=True)
