"""Small helpers shared by every package."""

from datetime import UTC, date, datetime

# The largest whole number an id or count column holds (a PostgreSQL `integer`); larger numbers
# from a person are refused before they reach the database.
DB_INT_MAX = 2**31 - 1

# How pure modules translate a message without importing Flask: trainer.i18n installs
# Flask-Babel's gettext when the app starts; until then a message reads as written.
_translator = [lambda message: message]


def install_translator(gettext) -> None:
    _translator[0] = gettext


def N_(text: str) -> str:  # noqa: N802 (gettext's name for "mark, don't translate yet")
    """Mark an English text for the catalogue without translating it here: it is stored or
    defined in English and translated where it is shown."""
    return text


def translate(message: str, **values) -> str:
    """`message` in the reader's language, with its %(name)s placeholders filled in."""
    text = _translator[0](message)
    return text % values if values else text


def shown_name(name: str) -> str:
    """Return a field or column name fit to quote in a message: NUL shown as \\0, at most 60
    characters."""
    return name.replace("\x00", "\\0")[:60]


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC (SQLModel stores aware datetimes)."""
    return datetime.now(UTC)


def quarter_of(day: date) -> str:
    """Return the calendar quarter of a date, e.g. '2026Q3'."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarter_bounds(period: str) -> tuple[date, date]:
    """Return the first and last day of a quarter like '2026Q3'."""
    year, q = int(period[:4]), int(period[5])
    start = date(year, 3 * q - 2, 1)
    end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return start, date.fromordinal(end.toordinal() - 1)


def shift_quarter(period: str, n: int) -> str:
    """Return the quarter n quarters after `period` (n may be negative)."""
    index = int(period[:4]) * 4 + int(period[5]) - 1 + n
    return f"{index // 4}Q{index % 4 + 1}"


def external_url(endpoint: str, **values) -> str:
    """Return the absolute URL of `endpoint` for an email: built on the BASE_URL setting, never
    on the request's Host header, which the client chooses."""
    from urllib.parse import urlsplit

    from flask import current_app

    base = urlsplit(current_app.config["BASE_URL"])
    urls = current_app.url_map.bind(
        base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme
    )
    return urls.build(endpoint, values, force_external=True)
