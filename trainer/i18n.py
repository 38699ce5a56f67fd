"""Languages: Flask-Babel set up, the reader's language chosen, and the catalogues compiled.

The interface's messages live in `trainer/translations/<lang>/LC_MESSAGES/messages.po`. They are
compiled when the app starts, into the instance folder, whenever a `.po` file is newer than its
compiled copy: a fresh clone or an installed wheel needs no extra step, and the package folder is
never written to. Question and course translations live in the database and in `courses/`.

`flask translate extract|update|compile` wraps `pybabel` with the repository's `babel.cfg`.
"""

import os
import re
import tempfile
from pathlib import Path

import click
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, g, has_request_context, request
from flask.cli import AppGroup
from flask_babel import (
    Babel,
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    get_locale,
    gettext,
)

from trainer.util import install_translator

# The languages trainer ships, by code, each named in its own language (for the language menu).
LANGUAGES = {"en": "English", "de": "Deutsch", "es": "Español"}
DEFAULT_LANGUAGE = "en"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"
DOMAIN = "messages"

translate_cli = AppGroup("translate", help="Extract, update and compile the interface's messages.")


def select_locale() -> str:
    """The reader's language: their own setting, else the browser's best match, else English."""
    if not has_request_context():
        return command_language()
    # The person signed in, if this request has loaded them already (every view behind a role
    # check has): asking for the language never loads them, or opens a database transaction.
    chosen = getattr(g.get("_login_user"), "locale", None)
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return request.accept_languages.best_match(current_app.config["LANGUAGES"], DEFAULT_LANGUAGE)


def command_language() -> str:
    """The language of a command run at a terminal: the system's (LC_ALL, LC_MESSAGES, LANG),
    if trainer ships it, else English. Jobs that write to people use `force_locale`."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            code = value.split(".")[0].split("_")[0].lower()
            return code if code in current_app.config["LANGUAGES"] else DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def language_of(person) -> str:
    """The language to write to `person` in (an email, a printed card): theirs, else English."""
    chosen = getattr(person, "locale", None)
    return chosen if chosen in current_app.config["LANGUAGES"] else DEFAULT_LANGUAGE


def _pattern(digits: int | None) -> str:
    """Whole numbers for 0, exactly `digits` decimals, or None: only the decimals needed."""
    if digits is None:
        return "#,##0.###"
    return "#,##0" + ("." + "0" * digits if digits else "")


def number(value, digits: int | None = 0) -> str:
    """`value` with `digits` decimals (None: as needed), in the reader's locale ("–" for none)."""
    if value is None:
        return "–"
    return format_decimal(value, format=_pattern(digits))


def percent(value, digits: int | None = 0) -> str:
    """A share (0.42) as a percentage in the reader's locale ("42 %" in German; "–" for none)."""
    if value is None:
        return "–"
    # The locale's own pattern ("#,##0 %" in German), with `digits` decimals.
    pattern = get_locale().percent_formats[None].pattern
    if digits:
        pattern = re.sub(r"0(?!.*0)", "0." + "0" * digits, pattern, count=1)
    return format_percent(value, format=pattern)


def day(value, style: str = "medium") -> str:
    """A date (or the date of a datetime) in the reader's locale: "4 Dec 2026", "04.12.2026"."""
    return "–" if value is None else format_date(value, style)


def moment(value, style: str = "medium") -> str:
    """A date and time in the reader's locale."""
    return "–" if value is None else format_datetime(value, style)


def compile_catalogues(source: Path, target: Path) -> list[str]:
    """Compile each `source/<lang>/LC_MESSAGES/*.po` newer than its copy under `target`.

    Each `.mo` file is written to a temporary file and renamed, so processes starting together
    never read half a file. Returns the languages compiled."""
    compiled = []
    for po_path in sorted(source.glob("*/LC_MESSAGES/*.po")):
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        fd, tmp_name = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as mo_file:
            write_mo(mo_file, catalog, use_fuzzy=False)
        os.replace(tmp_name, mo_path)
        compiled.append(po_path.parts[-3])
    return compiled


def compiled_dir(app: Flask) -> Path:
    return Path(app.instance_path) / "translations"


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", *args])


@translate_cli.command("extract")
def extract_command() -> None:
    """Collect the interface's messages into translations/messages.pot."""
    root = TRANSLATIONS_DIR.parent.parent
    _pybabel(
        "extract",
        "-F",
        str(root / "babel.cfg"),
        "-k",
        "_l",
        "-k",
        "N_",  # a stored English text marked for the catalogue, worded when shown
        "--no-location",
        "--sort-output",
        "-o",
        str(TRANSLATIONS_DIR / f"{DOMAIN}.pot"),
        str(TRANSLATIONS_DIR.parent),
    )


@translate_cli.command("update")
def update_command() -> None:
    """Extract the messages, then merge them into every language's .po file."""
    extract_command.callback()
    _pybabel(
        "update",
        "-i",
        str(TRANSLATIONS_DIR / f"{DOMAIN}.pot"),
        "-d",
        str(TRANSLATIONS_DIR),
        "--no-fuzzy-matching",
    )


@translate_cli.command("init")
@click.argument("language")
def init_command(language: str) -> None:
    """Start a new language's .po file from the extracted messages."""
    _pybabel(
        "init",
        "-i",
        str(TRANSLATIONS_DIR / f"{DOMAIN}.pot"),
        "-d",
        str(TRANSLATIONS_DIR),
        "-l",
        language,
    )


@translate_cli.command("compile")
def compile_command() -> None:
    """Compile the .po files (the app also does this itself when it starts)."""
    languages = compile_catalogues(TRANSLATIONS_DIR, compiled_dir(current_app))
    click.echo(f"Compiled: {', '.join(languages) or 'nothing was out of date'}.")


def init_app(app: Flask) -> None:
    """Set up Flask-Babel on catalogues compiled into the instance folder."""
    app.config.setdefault("LANGUAGES", LANGUAGES)
    target = compiled_dir(app)
    compile_catalogues(TRANSLATIONS_DIR, target)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(target)
    Babel(app, locale_selector=select_locale)
    install_translator(gettext)
    # Flask-Babel keeps the chosen language on g; drop it so a reused app context (the test
    # client, a CLI command) chooses again for the next request.
    app.teardown_request(lambda _exc: g.pop("_flask_babel", None))
    app.cli.add_command(translate_cli)
    for name, template_filter in (
        ("number", number),
        ("percent", percent),
        ("day", day),
        ("moment", moment),
    ):
        app.add_template_filter(template_filter, name)

    @app.context_processor
    def languages() -> dict:
        return {"page_language": str(get_locale()), "languages": app.config["LANGUAGES"]}
