"""Property test: random org trees and random shares of people logging fixes, checked through
every output of the fix log (the service, the manager page, the HR export, the API and the
insights rows). None may show a unit with fewer than 5 people who logged, or a unit whose
logging people could be worked out by subtracting released units."""

import csv
import io
import itertools
import re

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from trainer.auth.models import User
from trainer.fixes.exports import FIX_ON_SPOT, insight_rows
from trainer.fixes.models import Fix
from trainer.fixes.released import released_cells
from trainer.fixes.rollups import refresh_rollups
from trainer.org.models import OrgUnit
from trainer.org.services import create_unit
from trainer.outcomes.tokens import create_token
from trainer.pulse.models import random_key
from trainer.util import quarter_of, utcnow

K = 5
_counter = itertools.count()

team = st.tuples(st.integers(1, 14), st.floats(0, 1))  # (size, share who log a fix)
site = st.tuples(st.integers(0, 3), st.lists(team, min_size=1, max_size=3))
org_trees = st.lists(st.lists(site, min_size=1, max_size=3), min_size=1, max_size=2)


def _build(session, tree):
    """Create a company from `tree` whose logging people each log one or two fixes."""
    n = next(_counter)
    company = create_unit(
        session=session, code=f"F{n}", name=f"Co {n}", kind="company", parent=None
    )
    plan = []  # (unit, people, logging)
    for r, sites in enumerate(tree):
        region = create_unit(
            session=session, code=f"F{n}R{r}", name=f"R{r}", kind="region", parent=company
        )
        for s, (staff, teams) in enumerate(sites):
            site_unit = create_unit(
                session=session, code=f"F{n}R{r}S{s}", name=f"S{s}", kind="site", parent=region
            )
            plan.append((site_unit, staff, staff // 2))
            for t, (size, share) in enumerate(teams):
                unit = create_unit(
                    session=session,
                    code=f"F{n}R{r}S{s}T{t}",
                    name=f"T{t}",
                    kind="team",
                    parent=site_unit,
                )
                plan.append((unit, size, round(size * share)))
    session.execute(
        sa.insert(User),
        [
            {
                "email": f"f{n}-{unit.id}-{i}@example.com",
                "name": "X",
                "roles": "employee",
                "unit_id": unit.id,
                "active": True,
                "session_token": random_key(),
                "created_at": utcnow(),
            }
            for unit, size, _ in plan
            for i in range(size)
        ],
    )
    now = utcnow()
    fixes = []
    for unit, _size, logging in plan:
        people = session.exec(
            select(User.id).where(User.unit_id == unit.id).order_by(User.id)
        ).all()[:logging]
        for i, person in enumerate(people):
            for j in range(1 + i % 2):
                fixes.append(
                    {
                        "user_id": person,
                        "unit_id": unit.id,
                        "period": quarter_of(now.date()),
                        "logged_at": now,
                        "problem": "other",
                        "problem_label": "Something else",
                        "action": "on_spot" if j == 0 else "handover",
                        "goodwill": 0.0,
                        "currency": "EUR",
                        "note": "",
                    }
                )
    if fixes:
        session.execute(sa.insert(Fix), fixes)
    refresh_rollups(session=session, now=now)
    session.commit()
    return company


def _true_counts(session, company) -> tuple[dict, dict[int, int]]:
    """The real number of people who logged per unit subtree, known to the test only."""
    units = {
        u.id: u
        for u in session.exec(select(OrgUnit)).all()
        if u.id == company.id or u.path.startswith(f"/{company.id}/")
    }
    loggers = {}
    for user_id, unit_id in set(session.exec(select(Fix.user_id, Fix.unit_id)).all()):
        if unit_id in units:
            loggers.setdefault(unit_id, set()).add(user_id)
    counts = {}
    for unit_id, people in loggers.items():
        unit = units[unit_id]
        for uid in [int(i) for i in unit.path.strip("/").split("/") if i] + [unit_id]:
            counts[uid] = counts.get(uid, 0) + len(people)
    return units, counts


def _assert_no_differencing(units, counts, shown: set[int]):
    for uid in shown:
        assert counts.get(uid, 0) >= K, (uid, counts.get(uid))
        covered = 0
        stack = [u.id for u in units.values() if u.parent_id == uid]
        while stack:
            child = stack.pop()
            if child in shown:
                covered += counts.get(child, 0)
            else:
                stack.extend(u.id for u in units.values() if u.parent_id == child)
        remainder = counts.get(uid, 0) - covered
        assert remainder == 0 or remainder >= K, (uid, remainder)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tree=org_trees)
def test_every_fix_output_respects_thresholds_and_complements(app, client, session, org, tree):
    company = _build(session, tree)
    units, counts = _true_counts(session, company)
    period = quarter_of(utcnow().date())

    released = released_cells(period, session=session)
    shown = {uid for uid in units if released.get(uid) is not None}
    _assert_no_differencing(units, counts, shown)
    assert all(released[uid].people == counts[uid] for uid in shown)

    with client.session_transaction() as sess:
        sess["_user_id"] = org.hr.session_token
        sess["_fresh"] = True
    for uid, unit in units.items():
        page = client.get(f"/fixes/team?unit={unit.code}&period={period}").get_data(as_text=True)
        found = re.search(r"fixes logged by (\d+) people", page)
        assert (found is not None) == (uid in shown), unit.code
        if found:
            assert int(found.group(1)) == counts[uid]

    table = list(
        csv.DictReader(io.StringIO(client.get("/fixes/export.csv").get_data(as_text=True)))
    )
    by_code = {r["unit_code"]: r for r in table if r["period"] == period}
    for uid, unit in units.items():
        row = by_code.get(unit.code)
        if uid in shown:
            assert row["status"] == "shown" and int(row["people"]) == counts[uid]
        elif row is not None:
            assert row["status"] == "hidden" and row["people"] == row["fixes"] == ""

    _token, secret = create_token(
        session=session, name="P", scopes=["fixes:read"], created_by=org.hr, unit_id=company.id
    )
    session.commit()
    cells = client.get("/api/v1/fixes", headers={"Authorization": f"Bearer {secret}"}).get_json()[
        "cells"
    ]
    api_shown = {c["unit_code"] for c in cells if c["status"] == "shown"}
    assert api_shown == {units[uid].code for uid in shown}
    assert all(c["people"] is None and c["fixes"] is None for c in cells if c["status"] == "hidden")

    insight = insight_rows(session=session)
    assert {r["unit_id"] for r in insight[FIX_ON_SPOT] if r["unit_id"] in units} == shown
