"""Reading stored outcomes: per unit and quarter for the insights, filtered and paged for the
pages and the API, the periods and recent imports, and the rows of a CSV export."""

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, func, select

from trainer.org.models import OrgUnit
from trainer.org.scope import subtree_ids
from trainer.outcomes.models import Outcome, OutcomeImport
from trainer.outcomes.validation import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, parse_period
from trainer.util import utcnow

READ_LIMIT, READ_MAX_LIMIT = 1000, 10_000  # outcomes per API read


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
