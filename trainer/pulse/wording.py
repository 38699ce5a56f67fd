"""Item wording in the reader's language, for pages, charts and exports.

Each request loads the wording of its reader's language once. An item with no translation in
that language shows its English wording; HR (who can add the translation) also sees a note.
"""

from flask import g, has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from trainer.db import db_session
from trainer.i18n import LANGUAGES
from trainer.pulse.bank import SOURCE_LANGUAGE, default_comment_prompt, load_default_bank, texts_in


def reader_language() -> str:
    return str(get_locale()) if has_request_context() else SOURCE_LANGUAGE


def _texts(language: str) -> dict[int, str]:
    cache = g.setdefault("item_texts", {})
    if language not in cache:
        cache[language] = texts_in(language, session=db_session())
    return cache[language]


def translated(item) -> str | None:
    """The item's wording in the reader's language; None when it has no translation yet."""
    language = reader_language()
    if language == SOURCE_LANGUAGE:
        return item.text
    return _texts(language).get(item.id)


def item_text(item) -> str:
    """The item's wording in the reader's language, else in English."""
    return translated(item) or item.text


def untranslated_note(item) -> str:
    """For HR only: a note that an item is shown in English for want of a translation."""
    if translated(item) is not None or not getattr(current_user, "is_authenticated", False):
        return ""
    if not current_user.has_role("hr", "admin"):
        return ""
    return _(
        "(English — no translation into %(language)s yet)",
        language=LANGUAGES.get(reader_language(), reader_language()),
    )


def comment_prompt_text(programme) -> str:
    """The programme's comment question; the default one comes in the reader's language."""
    if programme.comment_prompt == load_default_bank()["comment_prompt"]:
        return default_comment_prompt(reader_language())
    return programme.comment_prompt
