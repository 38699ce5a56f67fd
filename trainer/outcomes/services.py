"""Customer outcomes: metric definitions, all-or-nothing imports, reads and API tokens."""

import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, func, select

from trainer.auth.models import User
from trainer.csvfile import CsvProblem, RowError, decode, delimiter_of, read_rows
from trainer.org.models import OrgUnit
from trainer.org.scope import subtree_ids
from trainer.outcomes.models import ApiToken, Outcome, OutcomeImport, OutcomeMetric
from trainer.outcomes.validation import (
    BUILTIN_CODES,
    BUILTIN_METRICS,
    DIRECTIONS,
    METRIC_CODE,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    VALUE_FIELDS,
    MetricDef,
    check_json_rows,
    check_rows,
    parse_period,
)
from trainer.util import utcnow

log = logging.getLogger("trainer.outcomes")

MAX_ROWS = 200_000  # per file
MAX_FILE_BYTES = 32 * 1024 * 1024  # web uploads are capped lower by MAX_CONTENT_LENGTH
API_MAX_ROWS = 10_000  # per request; send larger sets in batches
API_MAX_DEPTH = 20  # levels of nesting in a request body
READ_LIMIT, READ_MAX_LIMIT = 1000, 10_000  # outcomes per API read
SCOPES = {
    "outcomes:write": "Send outcomes (POST /api/v1/outcomes)",
    "outcomes:read": "Read outcomes and metrics (GET /api/v1/...)",
    "fixes:read": "Read fixes on own authority per unit and quarter (GET /api/v1/fixes)",
}
TOKEN_PREFIX = "trn_"  # noqa: S105 (a public marker, not a secret)


class OutcomeError(ValueError):
    """A change that cannot be made; the message is for the user."""


# Metrics


def metrics(*, session: Session) -> list[MetricDef]:
    """Return every metric definition: the built-ins, then HR's custom metrics by code."""
    custom = session.exec(select(OutcomeMetric).order_by(OutcomeMetric.code)).all()
    return [*BUILTIN_METRICS, *(_metric_def(m) for m in custom)]


def metric_map(*, session: Session) -> dict[str, MetricDef]:
    return {m.code: m for m in metrics(session=session)}


def _metric_def(metric: OutcomeMetric) -> MetricDef:
    return MetricDef(
        metric.code,
        metric.label,
        metric.direction,
        metric.min_value,
        metric.max_value,
        metric.needs_n,
        metric.description,
        custom=True,
        id=metric.id,
    )


def _check_metric_fields(label, direction, min_value, max_value):
    if not label.strip():
        raise OutcomeError("Give the metric a label.")
    if direction not in DIRECTIONS:
        raise OutcomeError("Choose whether higher or lower values are better.")
    for bound in (min_value, max_value):
        if bound is not None and not float("-inf") < bound < float("inf"):
            raise OutcomeError("The range limits must be ordinary numbers.")
    if min_value is not None and max_value is not None and min_value >= max_value:
        raise OutcomeError("The lowest value must be below the highest value.")


def create_metric(
    *,
    session: Session,
    code: str,
    label: str,
    direction: str,
    min_value: float | None,
    max_value: float | None,
    needs_n: bool,
    description: str = "",
) -> OutcomeMetric:
    """Define a custom metric; its code is then accepted in imports."""
    code = code.strip().lower()
    if not METRIC_CODE.match(code):
        raise OutcomeError(
            "Codes are 2 to 32 lowercase letters, digits or '_', starting with a letter."
        )
    if (
        code in BUILTIN_CODES
        or session.exec(select(OutcomeMetric).where(OutcomeMetric.code == code)).first()
    ):
        raise OutcomeError(f"The metric code {code} is already used.")
    _check_metric_fields(label, direction, min_value, max_value)
    metric = OutcomeMetric(
        code=code,
        label=label.strip(),
        direction=direction,
        min_value=min_value,
        max_value=max_value,
        needs_n=needs_n,
        description=description.strip(),
    )
    session.add(metric)
    session.flush()
    return metric


def update_metric(
    *,
    session: Session,
    metric: OutcomeMetric,
    label: str,
    direction: str,
    min_value: float | None,
    max_value: float | None,
    needs_n: bool,
    description: str = "",
) -> None:
    """Change a custom metric; refuse a range that would exclude values already stored."""
    _check_metric_fields(label, direction, min_value, max_value)
    low, high, count = session.exec(
        select(func.min(Outcome.value), func.max(Outcome.value), func.count()).where(
            Outcome.metric == metric.code
        )
    ).one()
    if count and (
        (min_value is not None and low < min_value) or (max_value is not None and high > max_value)
    ):
        raise OutcomeError(
            f"Stored {metric.code} values run from {low:g} to {high:g}; choose "
            "a range that includes them."
        )
    metric.label, metric.direction = label.strip(), direction
    metric.min_value, metric.max_value = min_value, max_value
    metric.needs_n, metric.description = needs_n, description.strip()
    session.add(metric)


def delete_metric(*, session: Session, metric: OutcomeMetric) -> None:
    """Delete a custom metric that has no stored values."""
    used = session.exec(select(func.count()).where(Outcome.metric == metric.code)).one()
    if used:
        raise OutcomeError(f"{used} stored values use {metric.code}; it cannot be deleted.")
    session.delete(metric)


# Imports


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
        return (
            ("Dry run, nothing saved: " if self.dry_run else "")
            + f"{self.rows} {'row' if self.rows == 1 else 'rows'}: {self.created} created, "
            f"{self.updated} updated, "
            f"{self.unchanged} unchanged."
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
    return f"{count:,} {'problem' if count == 1 else 'problems'}"


def size_error(num_bytes: int) -> RowError | None:
    """Return an error for a file above MAX_FILE_BYTES, else None."""
    if num_bytes <= MAX_FILE_BYTES:
        return None
    return RowError(
        1,
        None,
        f"The file is {num_bytes / 2**20:.1f} MB; the limit is "
        f"{MAX_FILE_BYTES // 2**20} MB. Split it into smaller files.",
    )


def _too_many_rows(count: int, limit: int) -> str:
    return (
        f"The file has {count:,} rows; the limit is {limit:,}. Split it into smaller "
        "files (each import is all or nothing)."
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
        report.errors = [RowError(2, None, "The file has a header but no rows.")]
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
                    index, "unit_code", f"This token may not send data for unit {code.strip()}."
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
        log.info("Outcome import (%s) by %s: %s", channel, actor, report.summary())
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


# Reads


def outcomes_by_unit_period(
    *, session: Session, metric: str, unit_ids: set[int] | None = None
) -> list[dict]:
    """Return one dict per (unit, period) of `metric`, ordered by unit code and period.

    Keys: unit_id, unit_code, period, value, n, topbox, responses, invited. `unit_ids` limits
    the units (None: every unit).
    """
    if unit_ids is not None and not unit_ids:
        return []
    query = (
        select(Outcome, OrgUnit.code)
        .join(OrgUnit, OrgUnit.id == Outcome.unit_id)
        .where(Outcome.metric == metric)
        .order_by(OrgUnit.code, Outcome.period)
    )
    if unit_ids is not None:
        query = query.where(Outcome.unit_id.in_(unit_ids))
    return [
        {
            "unit_id": o.unit_id,
            "unit_code": code,
            "period": o.period,
            "value": o.value,
            "n": o.n,
            "topbox": o.topbox,
            "responses": o.responses,
            "invited": o.invited,
        }
        for o, code in session.exec(query).all()
    ]


@dataclass(frozen=True)
class OutcomeFilter:
    unit_ids: set[int] | None = None
    metric: str | None = None
    period: str | None = None


def find_outcomes(
    *, session: Session, where: OutcomeFilter, limit: int | None = None, offset: int = 0
) -> tuple[list[tuple[Outcome, OrgUnit]], int]:
    """Return (outcome, unit) pairs matching the filter, newest period first, and the total."""
    query = select(Outcome, OrgUnit).join(OrgUnit, OrgUnit.id == Outcome.unit_id)
    if where.unit_ids is not None:
        query = query.where(Outcome.unit_id.in_(where.unit_ids or {-1}))
    if where.metric:
        query = query.where(Outcome.metric == where.metric)
    if where.period:
        query = query.where(Outcome.period == where.period)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    query = query.order_by(Outcome.period.desc(), OrgUnit.code, Outcome.metric, Outcome.id)
    if limit is not None:
        query = query.offset(offset).limit(limit)
    return list(session.exec(query).all()), total


def outcome_periods(*, session: Session) -> list[str]:
    """Return the periods that have outcomes, newest first."""
    return list(
        session.exec(select(Outcome.period).distinct().order_by(Outcome.period.desc())).all()
    )


def recent_imports(*, session: Session, limit: int = 10) -> list[OutcomeImport]:
    return list(
        session.exec(
            select(OutcomeImport)
            .order_by(OutcomeImport.created_at.desc(), OutcomeImport.id.desc())
            .limit(limit)
        ).all()
    )


def unit_subtree(*, session: Session, code: str) -> set[int] | None:
    """Return the ids of the unit with `code` and its subtree, or None if there is no such unit."""
    unit = session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()
    return None if unit is None else subtree_ids(session=session, roots=[unit])


def check_period(value: str, *, today: date | None = None) -> str:
    """Return the quarter of a query parameter; raise ValueError with a reason."""
    return parse_period(value, today=today or utcnow().date())


def export_rows(outcomes: list[tuple[Outcome, OrgUnit]]):
    """Yield CSV rows in the import format (header first), so a file round-trips."""
    yield [*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS]
    for outcome, unit in outcomes:
        yield [
            unit.code,
            outcome.period,
            outcome.metric,
            f"{outcome.value:g}",
            *(
                "" if v is None else f"{v:g}"
                for v in (outcome.n, outcome.topbox, outcome.responses, outcome.invited)
            ),
        ]


# API tokens


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    *,
    session: Session,
    name: str,
    scopes: list[str],
    created_by: User,
    unit_id: int | None = None,
    expires_in_days: int | None = None,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret; the secret is not stored and is shown once."""
    unknown = [s for s in scopes if s not in SCOPES]
    if not name.strip():
        raise OutcomeError("Give the token a name, e.g. the system that uses it.")
    if not scopes or unknown:
        raise OutcomeError("Choose at least one scope: " + ", ".join(SCOPES) + ".")
    if unit_id is not None and session.get(OrgUnit, unit_id) is None:
        raise OutcomeError("That unit does not exist.")
    now = now or utcnow()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name.strip(),
        token_hash=hash_secret(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        scopes=",".join(sorted(scopes)),
        unit_id=unit_id,
        created_by_id=created_by.id,
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    session.flush()
    return token, secret


def revoke_token(*, session: Session, token: ApiToken, now: datetime | None = None) -> None:
    """Revoke a token for good (revoking twice keeps the first time)."""
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        session.add(token)


def token_state(token: ApiToken, now: datetime) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def authenticate_token(
    *, session: Session, secret: str, now: datetime | None = None
) -> tuple[ApiToken | None, str]:
    """Return (token, "active") for a usable secret, else (None, why: unknown/revoked/expired)."""
    now = now or utcnow()
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret))).first()
    if token is None:
        return None, "unknown"
    state = token_state(token, now)
    if state != "active":
        return None, state
    # Record use at most once a minute, so reads rarely write.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        session.add(token)
    return token, state


def list_tokens(*, session: Session) -> list[tuple[ApiToken, User | None, OrgUnit | None]]:
    """Return every token with its creator and unit, newest first."""
    return list(
        session.exec(
            select(ApiToken, User, OrgUnit)
            .join(User, User.id == ApiToken.created_by_id, isouter=True)
            .join(OrgUnit, OrgUnit.id == ApiToken.unit_id, isouter=True)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        ).all()
    )


def token_unit_ids(*, session: Session, token: ApiToken) -> set[int] | None:
    """Return the unit ids a token may touch, or None for every unit."""
    if token.unit_id is None:
        return None
    unit = session.get(OrgUnit, token.unit_id)
    return subtree_ids(session=session, roots=[unit]) if unit else set()
