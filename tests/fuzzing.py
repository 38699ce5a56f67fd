"""Shared pieces of the fuzz tests (tests/test_fuzz_*.py): nasty values, and a probe that
fails on a 5xx or on a refused request that saved something.

Each fuzz test builds one app and database, signs in as the role the page is for, and sends
generated inputs: TRAINER_FUZZ_EXAMPLES per form, upload and API route (60 by default; the
nightly run uses 2,000, see benchmarks/README.md), a quarter of that per query-string page and
on PostgreSQL, where the database-specific trouble (NUL characters) is refused before any view
runs. Values start from a valid submission with some fields replaced by nasty ones: NUL and
control characters, whitespace, huge and negative numbers, 'nan', unicode digits, very long
text. With TESTING on, an exception in a view fails the test with its traceback instead of
becoming a 500.
"""

import html
import os
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel

from tests.access_samples import SAMPLES

EXAMPLES = int(os.environ.get("TRAINER_FUZZ_EXAMPLES", "60"))

NASTY = [
    "",
    " ",
    "\t",
    "\n",
    "\x00",
    "a\x00b",
    "\x00\x00",
    "\x1b[31m",
    "\x7f",
    "\u200b",
    "\u202e",
    "\ufeff",
    "\ufffd",
    "😀",
    "٣",
    "２",
    "𝟘",
    "0",
    "-0",
    "-1",
    "1.5",
    "1e3",
    "1,5",
    "1_000",
    "2147483647",
    "2147483648",
    "-2147483649",
    "9223372036854775808",
    "9" * 20,
    "9" * 401,
    "1" * 5000,
    "1e308",
    "1e309",
    "-1e309",
    "nan",
    "NaN",
    "inf",
    "-Infinity",
    "0x10",
    " 3 ",
    "true",
    "null",
    "[]",
    "{}",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "%s%n",
    "../../etc/passwd",
    "2026Q3",
    "2026Q9",
    "9999Q4",
    "2026-02-30",
    "0000-01-01",
    "99999-01-01",
    "x" * 201,
    "x" * 10_001,
    "é" * 70_000,
]


def nasty_text():
    """Text a form field might receive: hand-picked troublemakers and generated text."""
    return st.one_of(
        st.sampled_from(NASTY),
        st.text(max_size=30),  # any code point but surrogates: NUL, controls, RTL, emoji
        st.integers().map(str),  # including numbers far beyond any database integer
        st.from_regex(r"\A[ \t]*-?[0-9]{1,25}[ \t]*\Z"),
        st.builds(
            lambda char, size: char * size, st.characters(codec="utf-8"), st.integers(100, 20_000)
        ),
    )


def overrides(fields):
    """Replace one to three fields of a valid form with nasty values (some as lists)."""
    value = st.one_of(nasty_text(), st.lists(nasty_text(), max_size=3))
    return st.dictionaries(st.sampled_from(sorted(fields)), value, min_size=1, max_size=3)


def fuzz(app, strategy, check, share: float = 1):
    """Call `check` with values drawn from `strategy`: `share` of EXAMPLES, a quarter of that
    on PostgreSQL."""
    examples = EXAMPLES * share
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        examples /= 4
    examples = max(int(examples), 10)

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(strategy)
    def run(value):
        check(value)

    run()


class Probe:
    """Send requests; fail on a 5xx, and on a refused one that changed any table's row count."""

    def __init__(self, client, session, ignore=()):
        self.client, self.session = client, session
        self.known = None  # the counts, while no request may have changed them
        tables = [t for t in SQLModel.metadata.sorted_tables if t.name not in ignore]
        self.query = sa.select(
            *[
                sa.select(sa.func.count()).select_from(t).scalar_subquery().label(t.name)
                for t in tables
            ]
        )

    def counts(self) -> dict[str, int]:
        row = self.session.execute(self.query).one()._asdict()
        self.session.rollback()
        return row

    def send(self, method: str, url: str, **kwargs):
        before = self.known or self.counts()
        self.known = None
        response = self.client.open(url, method=method, **kwargs)
        where = f"{method} {url} {kwargs!r:.300}"
        assert response.status_code < 500, where
        if response.status_code >= 400:
            after = self.counts()
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            assert not changed, f"{where} answered {response.status_code} but saved {changed}"
            self.known = after
        return response


@dataclass
class Ctx:
    app: Any
    session: Any
    org: Any
    cache: dict

    def sample(self, name):
        return SAMPLES[name](self)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))
