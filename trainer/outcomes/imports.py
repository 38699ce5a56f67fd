"""Importing outcomes, all or nothing: from a CSV file (upload or CLI) or from rows sent to the
API, the size limits, the report of what changed, and the bulk insert-or-update behind them."""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from trainer.csvfile import CsvProblem, RowError, decode, delimiter_of, read_rows
from trainer.org.models import OrgUnit
from trainer.outcomes.metrics import metric_map
from trainer.outcomes.models import ApiToken, Outcome, OutcomeImport
from trainer.outcomes.tokens import token_unit_ids
from trainer.outcomes.validation import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    VALUE_FIELDS,
    check_json_rows,
    check_rows,
)
from trainer.util import utcnow

log = logging.getLogger("trainer.outcomes")

MAX_ROWS = 200_000  # per file
MAX_FILE_BYTES = 32 * 1024 * 1024  # web uploads are capped lower by MAX_CONTENT_LENGTH
API_MAX_ROWS = 10_000  # per request; send larger sets in batches
API_MAX_DEPTH = 20  # levels of nesting in a request body


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)
    forbidden: list[RowError] = field(default_factory=list)  # rows outside a token's units

    @property
    def ok(self) -> bool:
        return not self.errors and not self.forbidden

    def summary(self) -> str:
        return (_("Dry run, nothing saved:") + " " if self.dry_run else "") + ngettext(
            "%(num)d row: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.",
            "%(num)d rows: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.",
            self.rows,
            created=self.created,
            updated=self.updated,
            unchanged=self.unchanged,
        )

    def counts(self) -> dict:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "dry_run": self.dry_run,
        }


def problems(count: int) -> str:
    return ngettext("%(total)s problem", "%(total)s problems", count, total=f"{count:,}")


def size_error(num_bytes: int) -> RowError | None:
    """Return an error for a file above MAX_FILE_BYTES, else None."""
    if num_bytes <= MAX_FILE_BYTES:
        return None
    return RowError(
        1,
        None,
        _(
            "The file is %(size)s MB; the limit is %(limit)d MB. Split it into smaller files.",
            size=f"{num_bytes / 2**20:.1f}",
            limit=MAX_FILE_BYTES // 2**20,
        ),
    )


def _too_many_rows(count: int, limit: int) -> str:
    return _(
        "The file has %(count)s rows; the limit is %(limit)s. Split it into smaller "
        "files (each import is all or nothing).",
        count=f"{count:,}",
        limit=f"{limit:,}",
    )


def unit_codes(*, session: Session) -> dict[str, int]:
    return dict(session.exec(select(OrgUnit.code, OrgUnit.id)).all())


def import_csv(
    *,
    session: Session,
    data: bytes | str,
    channel: str,
    actor: str,
    dry_run: bool = False,
    today: date | None = None,
    max_rows: int = MAX_ROWS,
) -> ImportReport:
    """Import outcome rows from CSV text; on any error change nothing and name every bad row."""
    report = ImportReport(dry_run=dry_run)
    problem = size_error(len(data))
    if problem:
        report.errors = [problem]
        return report
    try:
        text = decode(data)
        parsed = read_rows(text, REQUIRED_COLUMNS, OPTIONAL_COLUMNS)
    except CsvProblem as exc:
        report.errors = exc.errors
        return report
    if len(parsed) > max_rows:
        report.errors = [RowError(1, None, _too_many_rows(len(parsed), max_rows))]
        return report
    if not parsed:
        report.errors = [RowError(2, None, _("The file has a header but no rows."))]
        return report
    report.errors = [problem for _line, _row, problem in parsed if problem]
    rows, errors = check_rows(
        ((line, row) for line, row, _problem in parsed if row is not None),
        units=unit_codes(session=session),
        metrics=metric_map(session=session),
        today=today or utcnow().date(),
        decimal_comma=delimiter_of(text) == ";",
    )
    report.errors = sorted(report.errors + errors, key=lambda e: e.line)
    if report.errors:
        return report
    return _save(session, report, rows, channel=channel, actor=actor)


def import_api_rows(
    *,
    session: Session,
    rows: list,
    token: ApiToken,
    dry_run: bool = False,
    today: date | None = None,
) -> ImportReport:
    """Import rows sent to the API (row errors carry 0-based indexes); all or nothing."""
    report = ImportReport(dry_run=dry_run)
    units = unit_codes(session=session)
    allowed = token_unit_ids(session=session, token=token)
    if allowed is not None:
        report.forbidden = _rows_outside(rows, units, allowed)
        if report.forbidden:
            return report
    clean, report.errors = check_json_rows(
        rows, units=units, metrics=metric_map(session=session), today=today or utcnow().date()
    )
    if report.errors:
        return report
    return _save(session, report, clean, channel="api", actor=token.name)


def _rows_outside(rows: list, units: dict[str, int], allowed: set[int]) -> list[RowError]:
    """Name the rows for known units outside `allowed`."""
    errors = []
    for index, row in enumerate(rows):
        code = row.get("unit_code") if isinstance(row, dict) else None
        unit_id = units.get(code.strip()) if isinstance(code, str) else None
        if unit_id is not None and unit_id not in allowed:
            errors.append(
                RowError(
                    index,
                    "unit_code",
                    _("This token may not send data for unit %(code)s.", code=code.strip()),
                )
            )
    return errors


def _save(session, report, rows, *, channel, actor):
    report.rows = len(rows)
    source = f"{channel}: {actor}"[:120]
    counts = upsert_outcomes(session=session, rows=rows, source=source, write=not report.dry_run)
    report.created, report.updated, report.unchanged = counts
    if not report.dry_run:
        session.add(
            OutcomeImport(
                channel=channel,
                actor=actor[:254],
                rows=report.rows,
                created=report.created,
                updated=report.updated,
                unchanged=report.unchanged,
            )
        )
        log.info("Outcome import (%s) by %s: %s", channel, actor, report.counts())
    return report


def upsert_outcomes(
    *, session: Session, rows, source: str = "", write: bool = True, now: datetime | None = None
) -> tuple[int, int, int]:
    """Insert or update checked rows in bulk; return (created, updated, unchanged).

    Each row is a dict with ``unit_id``, ``period`` ('2026Q3'), ``metric`` (a code) and
    ``value``, and any of ``n``, ``topbox``, ``responses``, ``invited``: a field that is absent
    keeps its stored value, None clears it. Rows are trusted (check them first) and at most one
    per (unit, period, metric). With ``write=False`` only count.
    """
    rows = list(rows)
    if not rows:
        return 0, 0, 0
    table = Outcome.__table__
    stored = {}
    for chunk in _chunks(sorted({r["period"] for r in rows}), 500):
        result = session.execute(
            sa.select(
                table.c.id,
                table.c.unit_id,
                table.c.period,
                table.c.metric,
                *(table.c[f] for f in VALUE_FIELDS),
            ).where(
                table.c.period.in_(chunk), table.c.metric.in_(sorted({r["metric"] for r in rows}))
            )
        )
        for record in result.mappings():
            stored[(record["unit_id"], record["period"], record["metric"])] = record
    now = now or utcnow()
    inserts, updates, unchanged = [], [], 0
    for row in rows:
        old = stored.get((row["unit_id"], row["period"], row["metric"]))
        values = {f: row[f] if f in row else (old[f] if old else None) for f in VALUE_FIELDS}
        if old is None:
            inserts.append(
                {
                    "unit_id": row["unit_id"],
                    "period": row["period"],
                    "metric": row["metric"],
                    **values,
                    "source": source,
                    "updated_at": now,
                }
            )
        elif values == {f: old[f] for f in VALUE_FIELDS}:
            unchanged += 1
        else:
            updates.append({"id": old["id"], **values, "source": source, "updated_at": now})
    if write:
        for chunk in _chunks(inserts, 5000):
            session.execute(_insert_or_update(session), chunk)
        for chunk in _chunks(updates, 5000):
            session.execute(sa.update(Outcome), chunk)
    return len(inserts), len(updates), unchanged


def _insert_or_update(session: Session):
    """Return a bulk INSERT that updates the row instead if another import just added it."""
    table = Outcome.__table__
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        return sa.insert(table)
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=["unit_id", "period", "metric"],
        set_={name: statement.excluded[name] for name in (*VALUE_FIELDS, "source", "updated_at")},
    )


def _chunks(items, size):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]
