"""Log fixes, roll them up per (unit, quarter), release the rollups through the anonymity
rules, flag data-quality problems for HR, and match common problems to training.

An employee's own fixes are read only by `my_fixes` (and the privacy export). Everything else
reads `FixRollup` rows, released by `released_cells`: a cell needs at least 5 people who
logged, and differencing protection applies across the unit tree.
"""

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from trainer import anonymity
from trainer.access import Role, parse_roles
from trainer.auth.models import User
from trainer.fixes.models import ACTIONS, OTHER, Fix, FixRollup, FixSettings, ProblemType
from trainer.org.models import OrgUnit
from trainer.util import quarter_bounds, quarter_of, utcnow

CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_GOODWILL = 100_000.0
NOTE_LENGTH = 120
MY_LIST = 50
LATE_DAYS = 14  # "right before a review": the quarter's last two weeks
NEAR_SECONDS = 120  # two entries this close, otherwise the same, count as near-identical
TOP_PROBLEMS = 5
FIX_ON_SPOT, FIX_RATE = "fix_on_spot", "fix_rate"
INSIGHT_MEASURES = {  # insights metric code: (label, higher is better, min, max)
    FIX_ON_SPOT: ("Fixed on the spot (% of logged fixes)", True, 0.0, 100.0),
    FIX_RATE: ("Fixes per person (on own authority, per quarter)", True, 0.0, None),
}
NOT_AN_ACCUSATION = "This is a data-quality check, not an accusation."
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


# Settings and problem types -----------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    unit_type: str
    currency: str
    goodwill_limit: float | None
    from_unit_id: int | None  # the unit the settings were set on (None: the defaults)


def _ancestry(unit: OrgUnit) -> list[int]:
    """Return the ids of `unit` and every unit above it, nearest first."""
    return [unit.id] + [int(i) for i in reversed(unit.path.strip("/").split("/")) if i]


def settings_for(session: Session, unit: OrgUnit | None) -> Settings:
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


def settings_map(session: Session, units: dict[int, OrgUnit]) -> dict[int, Settings]:
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
    session: Session, *, unit: OrgUnit, unit_type: str, currency: str, goodwill_limit: float | None
) -> FixSettings:
    unit_type = unit_type.strip().lower()
    currency = currency.strip().upper()
    if unit_type and not CODE.match(unit_type):
        raise FixError("Use lowercase letters, digits and single hyphens for the unit type.")
    if not CURRENCY.match(currency):
        raise FixError("Use a three-letter currency code such as EUR, GBP or USD.")
    if goodwill_limit is not None and not 0 <= goodwill_limit <= MAX_GOODWILL:
        raise FixError(f"The limit must be between 0 and {MAX_GOODWILL:,.0f}.")
    row = session.get(FixSettings, unit.id) or FixSettings(unit_id=unit.id)
    row.unit_type, row.currency, row.goodwill_limit = unit_type, currency, goodwill_limit
    session.add(row)
    session.flush()
    return row


def all_settings(session: Session) -> list[tuple[FixSettings, OrgUnit]]:
    return list(
        session.exec(
            select(FixSettings, OrgUnit)
            .join(OrgUnit, OrgUnit.id == FixSettings.unit_id)
            .order_by(OrgUnit.path, OrgUnit.code)
        ).all()
    )


def ensure_default_problem_types(session: Session) -> None:
    """Add the starter lists once, when no problem type exists yet."""
    if session.exec(select(func.count()).select_from(ProblemType)).one():
        return
    for unit_type, problems in DEFAULT_PROBLEMS.items():
        for position, (code, label) in enumerate(problems):
            session.add(ProblemType(unit_type=unit_type, code=code, label=label, position=position))
    session.flush()


def problem_types(session: Session, *, active_only: bool = False) -> list[ProblemType]:
    query = select(ProblemType).order_by(
        ProblemType.unit_type, ProblemType.position, ProblemType.id
    )
    if active_only:
        query = query.where(ProblemType.active)
    return list(session.exec(query).all())


def problem_choices(session: Session, unit_type: str) -> list[tuple[str, str]]:
    """Return (code, label) of the problems an employee of `unit_type` picks from, the unit
    type's own first, then those for every unit type, then "Something else"."""
    rows = [p for p in problem_types(session, active_only=True) if p.unit_type in (unit_type, "")]
    rows.sort(key=lambda p: (p.unit_type == "", p.position, p.id))
    seen, choices = set(), []
    for p in rows:
        if p.code not in seen:
            seen.add(p.code)
            choices.append((p.code, p.label))
    return choices + [(OTHER, "Something else")]


def add_problem_type(session: Session, *, unit_type: str, code: str, label: str) -> ProblemType:
    unit_type, code, label = unit_type.strip().lower(), code.strip().lower(), label.strip()
    if unit_type and not CODE.match(unit_type):
        raise FixError("Use lowercase letters, digits and single hyphens for the unit type.")
    if not CODE.match(code) or code == OTHER:
        raise FixError(
            "Use lowercase letters, digits and single hyphens for the code, "
            "e.g. late-car ('other' is taken)."
        )
    if not label:
        raise FixError("Give the problem a short name people will recognise.")
    if session.exec(
        select(ProblemType).where(ProblemType.unit_type == unit_type, ProblemType.code == code)
    ).first():
        raise FixError(f"The list for this unit type already has '{code}'.")
    position = session.exec(
        select(func.count()).select_from(ProblemType).where(ProblemType.unit_type == unit_type)
    ).one()
    problem = ProblemType(unit_type=unit_type, code=code, label=label[:100], position=position)
    session.add(problem)
    session.flush()
    return problem


def set_problem_active(session: Session, problem: ProblemType, active: bool) -> None:
    problem.active = active
    session.add(problem)
    session.flush()


# Logging and the person's own list ------------------------------------------------------------


def log_fix(
    session: Session,
    *,
    user: User,
    problem: str,
    action: str,
    goodwill: float | None,
    note: str = "",
    now: datetime | None = None,
) -> Fix:
    """Record a fix by `user`. Raises FixError with a message for the person."""
    if user.unit_id is None:
        raise FixError(
            "You are not in a team yet, so a fix cannot be counted. Ask HR to "
            "place you in your team."
        )
    unit = session.get(OrgUnit, user.unit_id)
    settings = settings_for(session, unit)
    labels = dict(problem_choices(session, settings.unit_type))
    if problem not in labels:
        raise FixError("Choose a problem from the list, or 'Something else'.")
    if action not in ACTIONS:
        raise FixError("Choose what you did.")
    goodwill = 0.0 if goodwill is None else float(goodwill)
    if not math.isfinite(goodwill) or not 0 <= goodwill <= MAX_GOODWILL:
        raise FixError(f"Goodwill must be between 0 and {MAX_GOODWILL:,.0f}.")
    note = " ".join((note or "").split())
    if len(note) > NOTE_LENGTH:
        raise FixError(f"Keep the note to one line of {NOTE_LENGTH} characters.")
    now = now or utcnow()
    fix = Fix(
        user_id=user.id,
        unit_id=unit.id,
        period=quarter_of(now.date()),
        logged_at=now,
        problem=problem,
        problem_label=labels[problem],
        action=action,
        goodwill=round(goodwill, 2),
        currency=settings.currency,
        note=note,
    )
    session.add(fix)
    session.flush()
    return fix


def my_fixes(session: Session, user: User, limit: int = MY_LIST) -> list[Fix]:
    """Return the person's own fixes, newest first: nobody else's list is ever read."""
    return list(
        session.exec(
            select(Fix)
            .where(Fix.user_id == user.id)
            .order_by(col(Fix.logged_at).desc(), col(Fix.id).desc())
            .limit(limit)
        ).all()
    )


def my_summary(session: Session, user: User) -> dict:
    """Return the person's own counts this quarter: for them alone, never a target."""
    period = quarter_of(utcnow().date())
    counts = Counter(
        session.exec(select(Fix.action).where(Fix.user_id == user.id, Fix.period == period)).all()
    )
    return {"period": period, "total": sum(counts.values()), "on_spot": counts["on_spot"]}


def own_fix(session: Session, user: User, fix_id: int) -> Fix | None:
    """Return the fix if `user` logged it, else None (someone else's is never found)."""
    fix = session.get(Fix, fix_id)
    return fix if fix is not None and fix.user_id == user.id else None


def delete_fix(session: Session, fix: Fix) -> None:
    session.delete(fix)
    session.flush()


# Rollups ------------------------------------------------------------------------------------


def week_of(day: date) -> str:
    return (day - timedelta(days=day.weekday())).isoformat()


def _near_identical(fixes: list[Fix]) -> set[int]:
    """Return the ids of fixes that repeat the same person's previous one: the same problem,
    action and goodwill, and the same non-empty note or logged within two minutes."""
    found = set()
    by_person = defaultdict(list)
    for fix in fixes:
        by_person[fix.user_id].append(fix)
    for own in by_person.values():
        own.sort(key=lambda f: (f.logged_at, f.id))
        for before, fix in zip(own, own[1:], strict=False):
            same = (before.problem, before.action, before.goodwill) == (
                fix.problem,
                fix.action,
                fix.goodwill,
            )
            close = abs((fix.logged_at - before.logged_at).total_seconds()) <= NEAR_SECONDS
            same_note = bool(fix.note) and fix.note.lower() == before.note.lower()
            if same and (close or same_note):
                found.add(fix.id)
    return found


def rollup_rows(session: Session) -> list[dict]:
    """Compute the rollup of every unit subtree and quarter from the fixes (for the job)."""
    units = {u.id: u for u in session.exec(select(OrgUnit)).all()}
    limits = {uid: s.goodwill_limit for uid, s in settings_map(session, units).items()}
    employees = Counter(
        uid
        for uid, roles in session.exec(
            select(User.unit_id, User.roles).where(User.active, col(User.unit_id).is_not(None))
        )
        if Role.EMPLOYEE in parse_roles(roles)
    )
    headcount = Counter()
    for uid, n in employees.items():
        if uid in units:
            for up in _ancestry(units[uid]):
                headcount[up] += n
    fixes = list(session.exec(select(Fix)).all())
    near = _near_identical(fixes)
    cells: dict[tuple[int, str], dict] = {}
    people: dict[tuple[int, str], set[int]] = defaultdict(set)
    for fix in fixes:
        if fix.unit_id not in units:
            continue
        end = quarter_bounds(fix.period)[1]
        late = (end - fix.logged_at.date()).days < LATE_DAYS
        limit = limits.get(fix.unit_id)
        for uid in _ancestry(units[fix.unit_id]):
            key = (uid, fix.period)
            cell = cells.setdefault(
                key,
                {
                    "unit_id": uid,
                    "period": fix.period,
                    "fixes": 0,
                    "on_spot": 0,
                    "goodwill": 0,
                    "handover": 0,
                    "escalated": 0,
                    "goodwill_spent": 0.0,
                    "over_limit": 0,
                    "late_fixes": 0,
                    "near_identical": 0,
                    "weeks": Counter(),
                    "problems": Counter(),
                },
            )
            people[key].add(fix.user_id)
            cell["fixes"] += 1
            cell[fix.action] += 1
            cell["goodwill_spent"] += fix.goodwill
            cell["over_limit"] += int(limit is not None and fix.goodwill > limit)
            cell["late_fixes"] += int(late)
            cell["near_identical"] += int(fix.id in near)
            cell["weeks"][week_of(fix.logged_at.date())] += 1
            cell["problems"][fix.problem] += 1
    rows = []
    for key, cell in sorted(cells.items()):
        rows.append(
            {
                **cell,
                "people": len(people[key]),
                "headcount": headcount[key[0]],
                "goodwill_spent": round(cell["goodwill_spent"], 2),
                "weeks": dict(sorted(cell["weeks"].items())),
                "problems": dict(cell["problems"].most_common()),
            }
        )
    return rows


def refresh_rollups(*, session: Session, now: datetime) -> int:
    """Make the rollup table match the fixes (a scheduler job, safe to run twice).

    Unchanged rows are left alone. Returns the number of rows written or removed.
    """
    fresh = {(r["unit_id"], r["period"]): r for r in rollup_rows(session)}
    stored = {(r.unit_id, r.period): r for r in session.exec(select(FixRollup)).all()}
    changed = 0
    for key, row in stored.items():
        if key not in fresh:
            session.delete(row)
            changed += 1
    for key, values in fresh.items():
        row = stored.get(key)
        if row is not None and all(getattr(row, k) == v for k, v in values.items()):
            continue
        row = row or FixRollup()
        for k, v in values.items():
            setattr(row, k, v)
        row.refreshed_at = now
        session.add(row)
        changed += 1
    session.flush()
    return changed


def rollup_version(session: Session) -> tuple:
    """Return a cheap fingerprint of the rollups (for the insights cache)."""
    return tuple(
        map(
            str,
            session.exec(
                select(
                    func.count(), func.max(FixRollup.refreshed_at), func.sum(FixRollup.fixes)
                ).select_from(FixRollup)
            ).one(),
        )
    )


# Released cells -----------------------------------------------------------------------------


def released_cells(session: Session, period: str) -> dict[int, FixRollup | None]:
    """Return every unit's rollup for `period`, or None where the anonymity rules withhold it
    (fewer than 5 people logged, or it would let a smaller group be worked out)."""
    rows = {
        r.unit_id: r
        for r in session.exec(select(FixRollup).where(FixRollup.period == period)).all()
    }
    units = {u.id: u for u in session.exec(select(OrgUnit).where(col(OrgUnit.id).in_(rows))).all()}
    cells = [
        anonymity.Cell(
            uid,
            units[uid].parent_id if units[uid].parent_id in rows else None,
            row.people,
            scores=row,
        )
        for uid, row in rows.items()
        if uid in units
    ]
    released = anonymity.release(cells, anonymity.thresholds())
    return {uid: r.scores for uid, r in released.items()}


def periods(session: Session) -> list[str]:
    """Return the quarters with rollups, newest first."""
    return sorted(set(session.exec(select(FixRollup.period).distinct()).all()), reverse=True)


def weeks_in(period: str, today: date | None = None) -> int:
    """Return how many weeks of `period` have passed (all of them once it is over)."""
    start, end = quarter_bounds(period)
    last = min(end, today or utcnow().date())
    return max(1, math.ceil(((last - start).days + 1) / 7))


def figures(row: FixRollup, settings: Settings, today: date | None = None) -> dict:
    """Return what a manager sees of one released cell."""
    goodwill_fixes = row.goodwill
    return {
        "fixes": row.fixes,
        "people": row.people,
        "per_week": row.fixes / weeks_in(row.period, today),
        "on_spot_share": row.on_spot / row.fixes if row.fixes else None,
        "actions": {code: getattr(row, code) for code in ACTIONS},
        "goodwill_spent": row.goodwill_spent,
        "goodwill_fixes": goodwill_fixes,
        "goodwill_average": row.goodwill_spent / goodwill_fixes if goodwill_fixes else None,
        "over_limit": row.over_limit,
        "currency": settings.currency,
        "limit": settings.goodwill_limit,
        "weeks": sorted(row.weeks.items()),
        "problems": Counter(row.problems).most_common(TOP_PROBLEMS),
    }


def problem_labels(session: Session) -> dict[str, str]:
    labels = {
        code: label
        for code, label in session.exec(
            select(ProblemType.code, ProblemType.label).order_by(ProblemType.unit_type.desc())
        )
    }
    labels[OTHER] = "Something else"
    return labels


# Training that practises a problem ------------------------------------------------------------

_content_cache: dict = {}


def _content_stamp(courses_dir: Path) -> tuple:
    files = [p for p in courses_dir.rglob("*") if p.suffix in (".yaml", ".twee", ".tw")]
    return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in files))


def training_by_problem(courses_dir: str | Path) -> dict[str, list[dict]]:
    """Return {problem code: [{kind, slug, title}]} from the content's `problem_types:`
    declarations (courses and scenarios that load without problems), cached per process
    until a content file changes."""
    from trainer.learn.loader import load_library
    from trainer.scenarios.loader import load_scenarios
    from trainer.scenarios.sync import SCENARIOS_FOLDER

    folder = Path(courses_dir)
    if not folder.is_dir():
        return {}
    stamp = (str(folder), _content_stamp(folder))
    if _content_cache.get("stamp") == stamp:
        return _content_cache["value"]
    found: dict[str, list[dict]] = defaultdict(list)
    courses, _problems = load_library(folder)
    for course in courses:
        for code in course.problem_types:
            found[code].append({"kind": "course", "slug": course.id, "title": course.title})
    scenarios = folder / SCENARIOS_FOLDER
    if scenarios.is_dir():
        for result in load_scenarios(scenarios):
            if result.ok:
                for code in result.problem_types:
                    found[code].append(
                        {
                            "kind": "scenario",
                            "slug": result.scenario.id,
                            "title": result.scenario.title,
                        }
                    )
    value = {
        code: sorted(items, key=lambda i: (i["kind"], i["title"])) for code, items in found.items()
    }
    _content_cache.update(stamp=stamp, value=value)
    return value


# Gaming flags (HR only) -----------------------------------------------------------------------


def gaming_flags(session: Session, today: date | None = None) -> list[dict]:
    """Return neutral data-quality flags on released unit-quarters that have ended: most of
    the quarter's fixes logged in its last two weeks, or many near-identical entries.

    Flags are about a unit's log, never a person, and go to HR only.
    """
    current = quarter_of(today or utcnow().date())
    units = {u.id: u for u in session.exec(select(OrgUnit)).all()}
    flags = []
    for period in periods(session):
        if period >= current:
            continue
        days = (quarter_bounds(period)[1] - quarter_bounds(period)[0]).days + 1
        for uid, row in released_cells(session, period).items():
            if row is None or uid not in units or units[uid].kind != "team":
                continue
            base = {
                "unit_code": units[uid].code,
                "unit_name": units[uid].name,
                "period": period,
                "kind": "gaming",
                "fixes": row.fixes,
            }
            early = row.fixes - row.late_fixes
            early_rate = early / (days - LATE_DAYS)
            late_rate = row.late_fixes / LATE_DAYS
            if (
                row.late_fixes >= 10
                and row.late_fixes >= 0.5 * row.fixes
                and late_rate >= 3 * max(early_rate, 1e-9)
            ):
                flags.append(
                    {
                        **base,
                        "signal": "volume_jump",
                        "reason": (
                            f"{row.late_fixes} of the quarter's {row.fixes} fixes were logged "
                            f"in its last {LATE_DAYS} days, about "
                            f"{late_rate / max(early_rate, 1e-9):.0f} "
                            f"times the earlier daily rate"
                            if early
                            else f"All {row.fixes} of the quarter's fixes were logged in its last "
                            f"{LATE_DAYS} days"
                        )
                        + f"; check how the log is being used. "
                        f"{NOT_AN_ACCUSATION}",
                    }
                )
            if row.near_identical >= 5 and row.near_identical >= 0.3 * row.fixes:
                flags.append(
                    {
                        **base,
                        "signal": "near_identical",
                        "reason": (
                            f"{row.near_identical} of {row.fixes} entries repeat the previous "
                            f"entry of the same person almost exactly; check whether entries "
                            f"are being "
                            f"copied. {NOT_AN_ACCUSATION}"
                        ),
                    }
                )
    return sorted(flags, key=lambda f: (f["unit_code"], f["period"], f["signal"]))


# Exports, the API and insights ----------------------------------------------------------------

EXPORT_HEAD = [
    "unit_code",
    "unit_name",
    "period",
    "people",
    "fixes",
    "on_spot",
    "goodwill",
    "handover",
    "escalated",
    "on_spot_share",
    "goodwill_spent",
    "currency",
    "over_limit",
    "top_problems",
    "status",
]


def rollup_json(row: FixRollup | None, unit: OrgUnit, settings: Settings, period: str) -> dict:
    """Return one cell as the API and the export give it; None values where withheld."""
    if row is None:
        return {
            "unit_code": unit.code,
            "unit_name": unit.name,
            "period": period,
            "status": "hidden",
            "people": None,
            "fixes": None,
            "on_spot": None,
            "goodwill": None,
            "handover": None,
            "escalated": None,
            "on_spot_share": None,
            "goodwill_spent": None,
            "currency": settings.currency,
            "over_limit": None,
            "top_problems": None,
        }
    return {
        "unit_code": unit.code,
        "unit_name": unit.name,
        "period": period,
        "status": "shown",
        "people": row.people,
        "fixes": row.fixes,
        "on_spot": row.on_spot,
        "goodwill": row.goodwill,
        "handover": row.handover,
        "escalated": row.escalated,
        "on_spot_share": round(row.on_spot / row.fixes, 4) if row.fixes else None,
        "goodwill_spent": row.goodwill_spent,
        "currency": settings.currency,
        "over_limit": row.over_limit,
        "top_problems": [code for code, _n in Counter(row.problems).most_common(TOP_PROBLEMS)],
    }


def released_json(
    session: Session, *, unit_ids: set[int] | None, period: str | None = None
) -> list[dict]:
    """Return every cell (shown or hidden) of the units in `unit_ids` (None: all), by unit."""
    units = {u.id: u for u in session.exec(select(OrgUnit)).all()}
    settings = settings_map(session, units)
    out = []
    for quarter in sorted(periods(session)):
        if period and quarter != period:
            continue
        for uid, row in released_cells(session, quarter).items():
            if uid in units and (unit_ids is None or uid in unit_ids):
                out.append(rollup_json(row, units[uid], settings[uid], quarter))
    return sorted(out, key=lambda r: (r["period"], r["unit_code"]))


def export_rows(session: Session) -> list[list]:
    """Return the HR export: every unit-quarter, hidden cells without numbers."""
    rows = [EXPORT_HEAD]
    for cell in released_json(session, unit_ids=None):
        values = dict(cell, top_problems=" ".join(cell["top_problems"] or []))
        rows.append(["" if values[h] is None else values[h] for h in EXPORT_HEAD])
    return rows


def insight_rows(session: Session) -> dict[str, list[dict]]:
    """Return the released cells as insights outcome rows: the share of fixes made on the
    spot (n = fixes) and fixes per person (n = headcount), per (unit, quarter)."""
    out = {FIX_ON_SPOT: [], FIX_RATE: []}
    for period in periods(session):
        for uid, row in released_cells(session, period).items():
            if row is None or not row.fixes:
                continue
            blank = {
                "unit_id": uid,
                "period": period,
                "topbox": None,
                "responses": None,
                "invited": None,
            }
            out[FIX_ON_SPOT].append(
                {**blank, "value": 100.0 * row.on_spot / row.fixes, "n": row.fixes}
            )
            if row.headcount:
                out[FIX_RATE].append(
                    {**blank, "value": row.fixes / row.headcount, "n": row.headcount}
                )
    return out


def erase_person_fixes(session: Session, user_id: int) -> int:
    return session.execute(sa.delete(Fix).where(Fix.user_id == user_id)).rowcount
