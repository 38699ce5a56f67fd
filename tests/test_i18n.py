"""Languages: every message is translated in each shipped language, a page comes in the
reader's language (their own setting, else the browser's), and an email in the recipient's."""

import re

import pytest
from babel.messages.pofile import read_po
from sqlmodel import select

from tests.i18n_support import extracted_messages
from trainer.auth.models import User
from trainer.i18n import DEFAULT_LANGUAGE, LANGUAGES, TRANSLATIONS_DIR

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


def _missing(language: str, messages) -> list[str]:
    """The extracted messages without a finished translation in `language`'s catalogue."""
    path = TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    missing = []
    for message in messages:
        entry = catalog.get(message[0] if isinstance(message, tuple) else message)
        strings = entry.string if entry else ""
        strings = strings if isinstance(strings, tuple | list) else [strings]
        if entry is None or entry.fuzzy or not all(strings):
            missing.append(" / ".join(message) if isinstance(message, tuple) else message)
    return missing


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != DEFAULT_LANGUAGE])
def test_every_message_is_translated_in_each_shipped_language(language):
    missing = _missing(language, extracted_messages())
    shown = "\n".join(f"  {m!r}" for m in missing[:60])
    more = f"\n  …and {len(missing) - 60} more" if len(missing) > 60 else ""
    assert not missing, (
        f"{len(missing)} messages have no finished {language} translation in "
        f"trainer/translations/{language}/LC_MESSAGES/messages.po (run `flask translate "
        f"update`, then translate them):\n{shown}{more}"
    )


def test_the_completeness_check_names_a_message_that_is_not_translated():
    assert _missing("de", ["A message nobody has written yet"]) == [
        "A message nobody has written yet"
    ]


def _lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)">', html).group(1)


def test_a_german_browser_gets_german_pages(client):
    html = client.get("/auth/login", headers=GERMAN).get_data(as_text=True)
    assert _lang(html) == "de"
    assert "<h1>Anmelden</h1>" in html and "Sign in" not in html
    english = client.get("/auth/login", headers={"Accept-Language": "fr, en;q=0.5"})
    assert "<h1>Sign in</h1>" in english.get_data(as_text=True)


def test_my_settings_choice_overrides_the_browser(client, login_as, org, session):
    login_as(org.employee)
    page = client.get("/auth/settings", headers=GERMAN).get_data(as_text=True)
    assert _lang(page) == "de" and "Meine Einstellungen" in page
    assert 'value="" checked' in page  # "Follow my browser" until the person chooses

    saved = client.post(
        "/auth/settings", data={"language": "es"}, headers=GERMAN, follow_redirects=True
    )
    html = saved.get_data(as_text=True)
    assert _lang(html) == "es" and "Tus ajustes están guardados." in html
    assert 'value="es" checked' in html
    assert session.exec(select(User.locale).where(User.id == org.employee.id)).one() == "es"
    assert _lang(client.get("/", headers=GERMAN).get_data(as_text=True)) == "es"

    client.post("/auth/settings", data={"language": ""}, headers=GERMAN)
    assert session.exec(select(User.locale).where(User.id == org.employee.id)).one() is None
    assert _lang(client.get("/", headers=GERMAN).get_data(as_text=True)) == "de"


def test_my_settings_refuses_a_language_trainer_does_not_ship(client, login_as, org, session):
    login_as(org.employee)
    response = client.post("/auth/settings", data={"language": "xx"})
    assert response.status_code == 400 and b'class="error-summary"' in response.data
    assert session.exec(select(User.locale).where(User.id == org.employee.id)).one() is None


def test_every_signed_in_person_finds_my_settings_in_the_header(client, login_as, org):
    for role in ("employee", "manager", "hr", "admin"):
        login_as(org.user(role))
        header = client.get("/").get_data(as_text=True).split("</header>")[0]
        assert 'href="/auth/settings"' in header, role


def test_an_invitation_goes_out_in_the_invitees_language(
    client, login_as, org, make_user, session, mailbox
):
    german = make_user("employee", org.t1, email="jana@example.com", name="Jana", password=False)
    german.locale = "de"
    session.add(german)
    session.commit()
    english = make_user("employee", org.t1, email="sam@example.com", name="Sam", password=False)
    login_as(org.hr)  # HR reads trainer in English: the invitee's language counts
    client.post(f"/org/people/{german.id}/invite")
    client.post(f"/org/people/{english.id}/invite")
    assert mailbox.deliver() == 2
    messages = {m["To"]: m for m in mailbox}
    assert messages["jana@example.com"]["Subject"] == "Ihre Einladung zu trainer"
    assert "Hallo Jana" in messages["jana@example.com"].get_content()
    assert messages["sam@example.com"]["Subject"] == "You're invited to trainer"
    assert "Hello Sam" in messages["sam@example.com"].get_content()


def test_a_password_reset_email_is_in_the_persons_language_not_the_browsers(
    client, org, session, mailbox
):
    org.employee.locale = "es"
    session.add(org.employee)
    session.commit()
    client.post("/auth/forgot", data={"email": org.employee.email}, headers=GERMAN)
    assert mailbox.deliver() == 1
    [message] = mailbox
    assert message["Subject"] == "Restablece tu contraseña de trainer"
    assert "/auth/reset/" in message.get_content()
