"""Keep each unit's fix settings (unit type, currency, goodwill limit) and the lists of
problem types people pick from."""

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, col, func, select

from trainer.fixes.models import OTHER, FixSettings, ProblemType
from trainer.org.models import OrgUnit

CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_GOODWILL = 100_000.0
DEFAULT_PROBLEMS = {  # unit type: [(code, label)]; "" applies to every unit type
    "": [
        ("billing-error", "Billing error"),
        ("refund-outside-policy", "Refund outside policy"),
        ("long-wait", "Long wait"),
        ("broken-promise", "A promise we didn't keep"),
    ],
    "dealer": [
        ("late-car", "Car not ready on time"),
        ("wrong-part", "Wrong part"),
        ("repeat-repair", "Fault not fixed first time"),
    ],
    "call": [
        ("repeat-call", "Customer had to call again"),
        ("travel-disruption", "Travel plans disrupted"),
    ],
}


class FixError(ValueError):
    """A request that cannot be done; the message is for the person."""


@dataclass(frozen=True)
class Settings:
    unit_type: str
    currency: str
    goodwill_limit: float | None
    from_unit_id: int | None  # the unit the settings were set on (None: the defaults)


def _ancestry(unit: OrgUnit) -> list[int]:
    """Return the ids of `unit` and every unit above it, nearest first."""
    return [unit.id] + [int(i) for i in reversed(unit.path.strip("/").split("/")) if i]


def settings_for(unit: OrgUnit | None, *, session: Session) -> Settings:
    """Return a unit's settings: its own, else those of the nearest unit above with some."""
    if unit is None:
        return Settings("", "EUR", None, None)
    chain = _ancestry(unit)
    rows = {
        s.unit_id: s
        for s in session.exec(select(FixSettings).where(col(FixSettings.unit_id).in_(chain))).all()
    }
    for unit_id in chain:
        if unit_id in rows:
            row = rows[unit_id]
            return Settings(row.unit_type, row.currency, row.goodwill_limit, unit_id)
    return Settings("", "EUR", None, None)


def settings_map(units: dict[int, OrgUnit], *, session: Session) -> dict[int, Settings]:
    """Return the settings of every unit in `units` (read once, resolved in memory)."""
    rows = {s.unit_id: s for s in session.exec(select(FixSettings)).all()}
    out = {}
    for uid, unit in units.items():
        row = next((rows[i] for i in _ancestry(unit) if i in rows), None)
        out[uid] = (
            Settings(row.unit_type, row.currency, row.goodwill_limit, row.unit_id)
            if row
            else Settings("", "EUR", None, None)
        )
    return out


def save_settings(
    *, session: Session, unit: OrgUnit, unit_type: str, currency: str, goodwill_limit: float | None
) -> FixSettings:
    unit_type = unit_type.strip().lower()
    currency = currency.strip().upper()
    if unit_type and not CODE.match(unit_type):
        raise FixError(_("Use lowercase letters, digits and single hyphens for the unit type."))
    if not CURRENCY.match(currency):
        raise FixError(_("Use a three-letter currency code such as EUR, GBP or USD."))
    if goodwill_limit is not None and not 0 <= goodwill_limit <= MAX_GOODWILL:
        raise FixError(_("The limit must be between 0 and %(max)s.", max=f"{MAX_GOODWILL:,.0f}"))
    row = session.get(FixSettings, unit.id) or FixSettings(unit_id=unit.id)
    row.unit_type, row.currency, row.goodwill_limit = unit_type, currency, goodwill_limit
    session.add(row)
    session.flush()
    return row


def all_settings(*, session: Session) -> list[tuple[FixSettings, OrgUnit]]:
    return list(
        session.exec(
            select(FixSettings, OrgUnit)
            .join(OrgUnit, OrgUnit.id == FixSettings.unit_id)
            .order_by(OrgUnit.path, OrgUnit.code)
        ).all()
    )


def ensure_default_problem_types(*, session: Session) -> None:
    """Add the starter lists once, when no problem type exists yet."""
    if session.exec(select(func.count()).select_from(ProblemType)).one():
        return
    for unit_type, problems in DEFAULT_PROBLEMS.items():
        for position, (code, label) in enumerate(problems):
            session.add(ProblemType(unit_type=unit_type, code=code, label=label, position=position))
    session.flush()


def problem_types(*, session: Session, active_only: bool = False) -> list[ProblemType]:
    query = select(ProblemType).order_by(
        ProblemType.unit_type, ProblemType.position, ProblemType.id
    )
    if active_only:
        query = query.where(ProblemType.active)
    return list(session.exec(query).all())


def problem_choices(unit_type: str, *, session: Session) -> list[tuple[str, str]]:
    """Return (code, label) of the problems an employee of `unit_type` picks from, the unit
    type's own first, then those for every unit type, then "Something else"."""
    rows = [
        p
        for p in problem_types(session=session, active_only=True)
        if p.unit_type in (unit_type, "")
    ]
    rows.sort(key=lambda p: (p.unit_type == "", p.position, p.id))
    seen, choices = set(), []
    for p in rows:
        if p.code not in seen:
            seen.add(p.code)
            choices.append((p.code, p.label))
    return choices + [(OTHER, _l("Something else"))]


def add_problem_type(*, session: Session, unit_type: str, code: str, label: str) -> ProblemType:
    unit_type, code, label = unit_type.strip().lower(), code.strip().lower(), label.strip()
    if unit_type and not CODE.match(unit_type):
        raise FixError(_("Use lowercase letters, digits and single hyphens for the unit type."))
    if not CODE.match(code) or code == OTHER:
        raise FixError(
            _(
                "Use lowercase letters, digits and single hyphens for the code, "
                "e.g. late-car ('other' is taken)."
            )
        )
    if not label:
        raise FixError(_("Give the problem a short name people will recognise."))
    if session.exec(
        select(ProblemType).where(ProblemType.unit_type == unit_type, ProblemType.code == code)
    ).first():
        raise FixError(_("The list for this unit type already has '%(code)s'.", code=code))
    position = session.exec(
        select(func.count()).select_from(ProblemType).where(ProblemType.unit_type == unit_type)
    ).one()
    problem = ProblemType(unit_type=unit_type, code=code, label=label[:100], position=position)
    session.add(problem)
    session.flush()
    return problem


def set_problem_active(problem: ProblemType, active: bool, *, session: Session) -> None:
    problem.active = active
    session.add(problem)
    session.flush()
