"""A multilingual question bank: one item id in every language, the survey in the employee's
language, results in the reader's, and HR's translations with a marker for what is missing."""

from flask_babel import force_locale, gettext
from sqlmodel import select

from tests.pulse.conftest import items_of
from trainer.pulse.bank import save_translations, translations_of
from trainer.pulse.cycles import close_cycle
from trainer.pulse.models import PulseItem, PulseItemTranslation


def _speak(session, user, language):
    user.locale = language
    session.add(user)
    session.commit()
    return user


def _item(session, code):
    return session.exec(select(PulseItem).where(PulseItem.code == code)).one()


def _answer(client, session, cycle, likert):
    data = {f"item-{i.id}": ("7" if i.kind == "enps" else likert) for i in items_of(session, cycle)}
    response = client.post(f"/pulse/cycles/{cycle.id}/answer", data={**data, "comment": ""})
    assert response.status_code == 302, response.get_data(as_text=True)


def _marker(app, language_name):
    with app.test_request_context(), force_locale("de"):
        return gettext("(English — no translation into %(language)s yet)", language=language_name)


def test_the_default_bank_ships_in_german_and_spanish(session, staffed, start_cycle):
    start_cycle(staffed)
    items = session.exec(select(PulseItem)).all()
    for item in items:
        assert set(translations_of(item, session=session)) == {"de", "es"}, item.code
    assert "Sie" in translations_of(_item(session, "ENPS-1"), session=session)["de"]
    assert "recomiendes" in translations_of(_item(session, "ENPS-1"), session=session)["es"]


def test_answers_in_german_and_english_roll_up_under_one_item_id(
    app, client, session, staffed, start_cycle, login_as
):
    cycle = start_cycle(staffed)
    emp1 = _item(session, "EMP-1")
    german = translations_of(emp1, session=session)["de"]
    for i, person in enumerate(staffed.people["t1"][:6]):
        _speak(session, person, "de" if i % 2 else "en")
        login_as(person)
        page = client.get(f"/pulse/cycles/{cycle.id}/answer?ready=1").get_data(as_text=True)
        assert (german in page) == (i % 2 == 1) and (emp1.text in page) == (i % 2 == 0)
        _answer(client, session, cycle, likert="5" if i % 2 else "3")
    close_cycle(cycle, session=session, now=cycle.closes_at)
    session.commit()

    login_as(_speak(session, staffed.hr, "en"))
    result = client.get(f"/pulse/results/{staffed.t1.id}.json?cycle={cycle.id}").get_json()
    assert result["result"]["respondents"] == 6
    emp = next(i for i in result["result"]["items"] if i["code"] == "EMP-1")
    assert emp["n"] == 6 and emp["mean"] == 4.0  # three 5s in German, three 3s in English
    assert emp["text"] == emp["reader_text"] == emp1.text

    _speak(session, staffed.hr, "de")
    result = client.get(f"/pulse/results/{staffed.t1.id}.json?cycle={cycle.id}").get_json()
    emp = next(i for i in result["result"]["items"] if i["code"] == "EMP-1")
    assert result["language"] == "de" and emp["n"] == 6
    assert emp["text"] == emp1.text and emp["reader_text"] == german  # fields kept, text added
    page = client.get(f"/pulse/results/{staffed.t1.id}?cycle={cycle.id}").get_data(as_text=True)
    assert german in page and emp1.text not in page


def test_a_missing_translation_falls_back_to_english_marked_for_hr_only(
    app, client, session, staffed, start_cycle, login_as
):
    cycle = start_cycle(staffed)
    tls1, emp1 = _item(session, "TLS-1"), _item(session, "EMP-1")
    save_translations(tls1, {"de": ""}, session=session)
    session.commit()
    marker = _marker(app, "Deutsch")

    login_as(_speak(session, staffed.employee, "de"))
    page = client.get(f"/pulse/cycles/{cycle.id}/answer?ready=1").get_data(as_text=True)
    assert translations_of(emp1, session=session)["de"] in page
    assert tls1.text in page  # English, since there is no German wording
    assert marker not in page and "(English" not in page

    login_as(_speak(session, staffed.hr, "de"))
    bank = client.get("/pulse/items").get_data(as_text=True)
    assert tls1.text in bank and bank.count(marker) == 1  # only TLS-1 lacks German


def test_hr_adds_and_edits_an_items_translations_and_it_keeps_its_id(
    app, client, session, staffed, login_as, start_cycle
):
    start_cycle(staffed)
    item = _item(session, "REC-1")
    url = f"/pulse/items/{item.id}/translations"

    login_as(staffed.employee)
    assert client.get(url).status_code == 403
    assert client.post(url, data={"de": "Hallo Welt, so nicht"}).status_code == 403
    login_as(staffed.manager)
    assert client.get(url).status_code == 403

    login_as(staffed.hr)
    form = client.get(url).get_data(as_text=True)
    assert item.text in form and translations_of(item, session=session)["de"] in form
    response = client.post(url, data={"de": "  Gute Arbeit   wird bei uns gesehen. ", "es": ""})
    assert response.status_code == 302 and response.location.endswith("/pulse/items")
    session.expire_all()
    assert translations_of(item, session=session) == {"de": "Gute Arbeit wird bei uns gesehen."}
    assert _item(session, "REC-1").id == item.id and _item(session, "REC-1").active
    assert client.post(url, data={"de": "x" * 301}).status_code == 400

    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(url, data={"de": "Ohne Schlüssel geht es nicht."}).status_code == 400
    session.expire_all()
    rows = session.exec(select(PulseItemTranslation).where(PulseItemTranslation.item_id == item.id))
    assert [r.text for r in rows] == ["Gute Arbeit wird bei uns gesehen."]


def test_upgrading_gives_existing_default_items_their_translations(tmp_path):
    import sqlalchemy as sa

    from trainer.db import make_engine, upgrade
    from trainer.pulse.bank import load_default_bank

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "f0_user_locale")
    bank = {spec["code"]: spec for spec in load_default_bank()["items"]}
    with engine.begin() as conn:
        for code, text in (("EMP-1", bank["EMP-1"]["text"]), ("REC-1", "Reworded by HR.")):
            conn.execute(
                sa.text(
                    "INSERT INTO pulse_item (code, theme, kind, text, active, created_at) "
                    "VALUES (:code, 'empowerment', 'likert', :text, 1, '2026-01-01 00:00:00')"
                ),
                {"code": code, "text": text},
            )
    upgrade(engine, "ff_item_translations")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT i.code, t.language, t.text FROM pulse_item_translation t "
                "JOIN pulse_item i ON i.id = t.item_id ORDER BY t.language"
            )
        ).all()
    engine.dispose()
    # Only the item still worded as the bank ships it gets the bank's translations.
    assert [tuple(r) for r in rows] == [
        ("EMP-1", "de", bank["EMP-1"]["translations"]["de"]),
        ("EMP-1", "es", bank["EMP-1"]["translations"]["es"]),
    ]
