"""Every page each role reaches, rendered in a pseudo-language, shows no English outside a
translation call.

The pseudo-language's catalogue is generated here from the freshly extracted messages: each
translation is the English message wrapped in ⟦ ⟧. It is served as Japanese ("ja"), whose dates
and numbers Babel writes without Latin letters, so a date formatted for the reader never looks
like English. Whatever is left on a page once the ⟦…⟧ spans are removed is either data (names,
units, course and scenario content: every string the database holds, and the same text rendered
from Markdown) or an English word that skipped translation, which fails the test with the page
and the text around it.

One test per page (GET endpoint), run for every role that may see it (a public page signed
out), so a subset runs with `-k`, e.g. `-k "learn or org"`.
"""

import contextlib
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from sqlmodel import SQLModel

from tests.access_samples import SAMPLES, Ctx, sign_in, url_of
from tests.i18n_support import extracted_messages
from trainer import create_app, i18n
from trainer.content import render_markdown, render_text
from trainer.outcomes.validation import BUILTIN_METRICS

PSEUDO = "ja"
ROLES = ["employee", "manager", "hr", "admin"]
# Names that are the same in every language: the product, the databases it runs on, and the
# languages on the settings page (each written in itself).
NOT_TRANSLATED = {"trainer", "SQLite", "PostgreSQL", *i18n.LANGUAGES.values()}
VISIBLE_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt", "data-label")
# Code and samples of files (a CSV header) read the same in every language.
SKIPPED_ELEMENTS = {"script", "style", "code", "pre"}
WORD = re.compile(r"[^\W\d_]{2,}")
BRACKETED = re.compile(r"⟦[^⟦⟧]*⟧")
CODE = re.compile(r"[a-z0-9_.:/-]+")


@pytest.fixture(scope="session")
def pseudo_translations(tmp_path_factory):
    """A compiled catalogue in which every extracted message reads ⟦message⟧."""
    folder = tmp_path_factory.mktemp("pseudo")
    catalog = Catalog(locale=PSEUDO)
    for message in extracted_messages():
        if isinstance(message, tuple):
            # Japanese has one plural form: the plural message serves every count.
            catalog.add(message, [f"⟦{message[1]}⟧"])
        else:
            catalog.add(message, f"⟦{message}⟧")
    target = folder / PSEUDO / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / f"{i18n.DOMAIN}.mo").open("wb") as mo_file:
        write_mo(mo_file, catalog)
    return folder


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LANGUAGES": {**i18n.LANGUAGES, PSEUDO: "⟦pseudo⟧"}}


@pytest.fixture
def pseudo_app(app, pseudo_translations):
    app.extensions["babel"].translation_directories.append(str(pseudo_translations))
    return app


class VisibleText(HTMLParser):
    """The text a person sees or hears: text nodes and the attributes read aloud or shown, each
    a separate chunk, outside scripts and styles."""

    def __init__(self):
        super().__init__()
        self.chunks: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED_ELEMENTS:
            self._skipping += 1
        attrs = dict(attrs)
        self.chunks.extend(attrs[name] for name in VISIBLE_ATTRIBUTES if attrs.get(name))
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.chunks.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in SKIPPED_ELEMENTS:
            self._skipping = max(self._skipping - 1, 0)

    def handle_data(self, data):
        if not self._skipping:
            self.chunks.append(data)


def visible_chunks(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.chunks


def _strings_in(value, found: set[str]) -> None:
    """Collect the strings in a column value, looking inside JSON documents."""
    if isinstance(value, str):
        found.add(value)
        if value[:1] in "[{":
            with contextlib.suppress(ValueError):
                _strings_in(json.loads(value), found)
    elif isinstance(value, dict):
        for key, item in value.items():
            _strings_in(key, found)
            _strings_in(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _strings_in(item, found)


@dataclass(frozen=True)
class Data:
    strings: list[str]  # longest first
    codes: set[str]


def data_strings(app, session) -> Data:
    """Every string the database holds, the same rendered from Markdown or GIFT HTML as the
    pages render it, and the job names the system page shows."""
    found: set[str] = set()
    for table in SQLModel.metadata.sorted_tables:
        for row in session.connection().execute(sa.select(table)).all():
            for value in row:
                _strings_in(value, found)
    # A code ("team", "overdue", "person.erase") is shown through a translated label, so it is
    # data only where it stands alone (an answer typed in a quiz), never inside a sentence;
    # job names are shown as they are, after the label.
    codes = {text for text in found if CODE.fullmatch(text)}
    found = (found - codes) | {job.name for job in app.extensions.get("trainer.jobs", [])}
    codes |= {metric.code for metric in BUILTIN_METRICS}  # "Dealer CSI (csi)"
    rendered = set()
    for text in found:
        if len(text) > 3:
            rendered.update(visible_chunks(str(render_markdown(text))))
            rendered.update(visible_chunks(str(render_text(text, "html"))))
    strings = {s.strip() for s in found | rendered if len(s.strip()) > 1}
    return Data(sorted(strings, key=len, reverse=True), codes)


def untranslated(html: str, data: Data) -> list[str]:
    """Return the visible text of a page that holds English outside ⟦…⟧ and outside data."""
    text = "\n".join(visible_chunks(html))
    while True:  # innermost first: a translated message may hold another one
        shorter = BRACKETED.sub(" ", text)
        if shorter == text:
            break
        text = shorter
    blob = "\n".join(data.strings)
    problems = []
    for chunk in text.split("\n"):
        chunk = " ".join(chunk.split())
        for value in data.strings:
            if value in chunk:  # as whole words only: "team" is not data inside "teams"
                chunk = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", " ", chunk)
        for code in data.codes:  # a code beside its label: "Dealer CSI (csi)"
            chunk = chunk.replace(f"({code})", " ")
        chunk = " ".join(chunk.split()).removesuffix("...").strip()
        if not chunk or chunk in blob or chunk in data.codes:  # data, or cut short (|truncate)
            continue
        words = [
            w
            for w in WORD.findall(chunk)
            if w not in NOT_TRANSLATED and not w.isupper()  # codes: T1, CSV, UTC
        ]
        if words:
            problems.append(chunk)
    return problems


def _pages():
    app = create_app({"DATABASE_URL": "sqlite://", "TESTING": True})
    pages = []
    for rule in app.url_map.iter_rules():
        access = getattr(app.view_functions[rule.endpoint], "access", None)
        if "GET" not in rule.methods or access is None or access.api_token:
            continue
        pages.append(pytest.param(rule.endpoint, rule.rule, id=f"GET {rule.rule}"))
    return pages


@pytest.mark.parametrize(("endpoint", "rule_text"), _pages())
def test_every_page_shows_only_translated_text(
    pseudo_app, client, session, org, endpoint, rule_text
):
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("which text a page translates does not depend on the database")
    app = pseudo_app
    access = app.view_functions[endpoint].access
    url = url_of(app, Ctx(app, session, org), endpoint, rule_text, SAMPLES)
    pages = {}
    for role in ["signed out"] if access.public else ROLES:
        user = None if access.public else org.user(role)
        if user is not None and not access.permits(user):
            continue
        sign_in(client, user)
        response = client.get(url, headers={"Accept-Language": PSEUDO})
        # 400: a page that explains a refusal (an expired link) is a page people read too.
        if response.status_code not in (200, 400) or response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        assert f'<html lang="{PSEUDO}">' in html, f"{url} as {role} is not in the pseudo-language"
        pages[role] = html
    if not pages:
        pytest.skip(f"{url} is not an HTML page for any role")
    data = data_strings(app, session)
    problems = [
        f"  as {role}: {text[:160]!r}"
        for role, html in pages.items()
        for text in untranslated(html, data)
    ]
    assert not problems, f"English text not passed through a translation call on {url}:\n" + (
        "\n".join(dict.fromkeys(problems))
    )


def test_the_check_finds_english_and_lets_data_and_translations_through():
    data = Data(["Refund without a receipt", "Person 1"], {"grievance", "team"})
    page = (
        "<html><head><style>p { color: red }</style></head><body>"
        "<h1>⟦Hello, Person 1⟧</h1><p>Person 1 · T1 · 2026/12/06</p>"
        "<p>⟦Best: <span>⟦Good ending⟧</span>⟧</p><p>Refund without a receipt</p>"
        '<p title="Untranslated title">⟦Sign in⟧</p><p>Sign out</p>'
        "<p>grievance</p><p>A team of five</p>"
        "<script>var notText = 'hello there';</script></body></html>"
    )
    assert untranslated(page, data) == ["Untranslated title", "Sign out", "A team of five"]
