"""Roll the fixes up per (unit subtree, quarter) for the scheduler job."""

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, func, select

from trainer.access import Role, parse_roles
from trainer.auth.models import User
from trainer.fixes.models import Fix, FixRollup
from trainer.fixes.settings import _ancestry, settings_map
from trainer.org.models import OrgUnit
from trainer.util import quarter_bounds

LATE_DAYS = 14  # "right before a review": the quarter's last two weeks
NEAR_SECONDS = 120  # two entries this close, otherwise the same, count as near-identical


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


def rollup_rows(*, session: Session) -> list[dict]:
    """Compute the rollup of every unit subtree and quarter from the fixes (for the job)."""
    units = {u.id: u for u in session.exec(select(OrgUnit)).all()}
    limits = {uid: s.goodwill_limit for uid, s in settings_map(units, session=session).items()}
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
    fresh = {(r["unit_id"], r["period"]): r for r in rollup_rows(session=session)}
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


def rollup_version(*, session: Session) -> tuple:
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
