"""The insights tests' shared history: four closed pulse quarters and customer outcomes."""

import json
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from trainer.auth.models import User
from trainer.insights import store
from trainer.org.models import OrgUnit
from trainer.outcomes.imports import upsert_outcomes
from trainer.pulse.cycles import compute_rollups
from trainer.pulse.models import (
    CycleAudience,
    CycleStatus,
    ItemKind,
    SurveyResponse,
    random_key,
)
from trainer.pulse.programmes import Occurrence, cycle_for, cycle_items, ensure_default_programme
from trainer.pulse.tree import group_keys
from trainer.util import quarter_bounds, quarter_of, shift_quarter, utcnow

PERIODS = [shift_quarter(quarter_of(utcnow().date()), -n) for n in (4, 3, 2, 1)]
SMALL_QUARTER = PERIODS[2]  # T2 has only 3 respondents then


def close_cycle(session, programme, period, answers_for):
    """Write one closed pulse cycle straight into responses and rollups and return it.
    `answers_for(items)` gives each unit id's answers: one dict of item id -> answer per
    respondent, with the respondent's comment under the key "comment" if they wrote one."""
    opens = datetime.combine(quarter_bounds(period)[0] + timedelta(days=14), time(0), UTC)
    cycle = cycle_for(
        programme, Occurrence(period, period, opens, opens + timedelta(days=14)), session=session
    )
    units = {u.id: u for u in session.exec(select(OrgUnit)).all()}
    headcount = Counter(
        u.unit_id for u in session.exec(select(User)).all() if u.unit_id and "employee" in u.roles
    )
    keys = group_keys(units, set(units), headcount, 10)
    session.execute(
        sa.insert(CycleAudience),
        [
            {
                "cycle_id": cycle.id,
                "unit_id": u,
                "group_key": keys[u],
                "invited": headcount.get(u, 0),
            }
            for u in sorted(units)
        ],
    )
    rows = [
        {
            "id": random_key(),
            "survey_id": cycle.id,
            "group_key": keys[unit_id],
            "answers": json.dumps(
                {str(item): value for item, value in answers.items() if item != "comment"}
            ),
            "comment": answers.get("comment"),
        }
        for unit_id, people in answers_for(cycle_items(cycle, session=session)).items()
        for answers in people
    ]
    session.execute(sa.insert(SurveyResponse), rows)
    cycle.status = CycleStatus.CLOSED
    session.add(cycle)
    compute_rollups(cycle, session=session)
    session.commit()
    return cycle


def close_quarter(session, programme, period, levels_by_unit):
    """Write one closed pulse cycle in which each respondent gives one level to every Likert
    item (and 8 to eNPS)."""
    close_cycle(
        session,
        programme,
        period,
        lambda items: {
            unit_id: [
                {i.id: 8 if i.kind == ItemKind.ENPS else level for i in items} for level in levels
            ]
            for unit_id, levels in levels_by_unit.items()
        },
    )


@pytest.fixture
def history(session, org, make_unit, make_user):
    """Four closed quarters: T1, T2 (site S1, the manager's) and T3 have 12 people each, T4
    (under S2) only 6, so it is reported with S2. T3's CSI top-box share is near 1."""
    store.clear_cache()
    org.t4 = make_unit("T4", "team", org.s2)
    for team, count in ((org.t1, 11), (org.t2, 12), (org.t3, 12), (org.t4, 6)):
        for _ in range(count):
            make_user("employee", team)
    programme = ensure_default_programme(
        org.company, session=session, starts_on=quarter_bounds(PERIODS[0])[0]
    )
    session.commit()
    for n, period in enumerate(PERIODS):
        level = 3 + n % 2
        close_quarter(
            session,
            programme,
            period,
            {
                org.t1.id: [level] * 10,
                org.t2.id: [4] * (3 if period == SMALL_QUARTER else 10),
                org.t3.id: [level] * 10,
                org.t4.id: [2] * 5,
            },
        )
    rows = []
    for n, period in enumerate(PERIODS):
        for team in (org.t1, org.t2, org.t3, org.t4):
            gamed = team is org.t3
            rows.append(
                {
                    "unit_id": team.id,
                    "period": period,
                    "metric": "csi",
                    "value": 99.0 if gamed else 80.0 + n,
                    "n": 100,
                    "topbox": 0.95 if gamed else 0.30,
                    "responses": 100,
                    "invited": 400,
                }
            )
            rows.append(
                {"unit_id": team.id, "period": period, "metric": "csat", "value": 75.0, "n": 100}
            )
    upsert_outcomes(session=session, rows=rows, source="test")
    session.commit()
    return org
