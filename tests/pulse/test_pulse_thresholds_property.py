"""Property test: random org trees and participation, checked through every output.

Pages, the CSV export, the JSON endpoint and the live counts must never show a score or count
for fewer than 5 respondents, comments for fewer than 10, or a cut whose complement is small.
"""

import csv
import io
import itertools
import json

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from trainer import anonymity
from trainer.auth.models import User
from trainer.org.models import OrgUnit
from trainer.org.services import create_unit
from trainer.pulse.analyses import store_missing_analyses
from trainer.pulse.bank import ensure_default_bank
from trainer.pulse.cycles import close_cycle, open_now
from trainer.pulse.models import PulseInvitation, SurveyParticipation, SurveyResponse, random_key
from trainer.pulse.morale import item_means_by_unit_period, morale_by_unit_period
from trainer.pulse.programmes import ProgrammeInput, cycle_items, save_programme
from trainer.pulse.progress import live_progress
from trainer.pulse.results import COMMENTS_SHOWN
from trainer.util import utcnow

_counter = itertools.count()
PHRASES = ["the booking system is slow", "workload on the late shift", "thanks for good work"]

team = st.tuples(st.integers(1, 30), st.floats(0, 1))  # (size, share who answer)
site = st.tuples(st.integers(0, 3), st.lists(team, min_size=1, max_size=4))  # (site staff, teams)
org_trees = st.lists(st.lists(site, min_size=1, max_size=3), min_size=1, max_size=2)


def _build(session, tree):
    n = next(_counter)
    company = create_unit(
        session=session, code=f"P{n}", name=f"Co {n}", kind="company", parent=None
    )
    plan = []  # (unit, people, answering)
    for r, sites in enumerate(tree):
        region = create_unit(
            session=session, code=f"P{n}R{r}", name=f"R{r}", kind="region", parent=company
        )
        for s, (staff, teams) in enumerate(sites):
            site_unit = create_unit(
                session=session, code=f"P{n}R{r}S{s}", name=f"S{s}", kind="site", parent=region
            )
            plan.append((site_unit, staff, staff // 2))
            for t, (size, share) in enumerate(teams):
                unit = create_unit(
                    session=session,
                    code=f"P{n}R{r}S{s}T{t}",
                    name=f"T{t}",
                    kind="team",
                    parent=site_unit,
                )
                plan.append((unit, size, round(size * share)))
    rows = [
        {
            "email": f"p{n}-{unit.id}-{i}@example.com",
            "name": "X",
            "roles": "employee",
            "unit_id": unit.id,
            "active": True,
            "session_token": random_key(),
            "created_at": utcnow(),
        }
        for unit, size, _ in plan
        for i in range(size)
    ]
    session.execute(sa.insert(User), rows)
    session.flush()
    return company, plan


def _true_counts(session, cycle):
    """The real respondents per unit subtree, known to the test only."""
    units = {u.id: u for u in session.exec(select(OrgUnit)).all()}
    counts = {}
    for group_key, n in session.execute(
        sa.select(SurveyResponse.group_key, sa.func.count())
        .where(SurveyResponse.survey_id == cycle.id)
        .group_by(SurveyResponse.group_key)
    ):
        unit = units[group_key]
        for uid in [int(i) for i in unit.path.strip("/").split("/") if i] + [group_key]:
            counts[uid] = counts.get(uid, 0) + n
    return units, counts


def _assert_drivers_and_themes_released(doc: dict, respondents: int):
    """Drivers only for shown groups, estimated only from 30 answers; themes only where the
    group's comments are shown and it has at least 10 of them."""
    result = doc["result"]
    if result["status"] != "shown":
        assert doc["drivers"] == [] and doc["themes"] == []
        return
    assert doc["drivers"], "a shown group has its stored drivers"
    if respondents < 30:
        assert all(d["estimate"] is None for d in doc["drivers"])
    if doc["themes"]:
        assert result["comments"] is not None and respondents >= 10
        assert sum(t["comments"] for t in doc["themes"]) <= respondents


def _assert_no_differencing(units, counts, shown: set[int], k: int):
    for uid in shown:
        assert counts.get(uid, 0) >= k, (uid, counts.get(uid))
        covered = 0
        stack = [u.id for u in units.values() if u.parent_id == uid]
        while stack:
            child = stack.pop()
            if child in shown:
                covered += counts.get(child, 0)
            else:
                stack.extend(u.id for u in units.values() if u.parent_id == child)
        remainder = counts.get(uid, 0) - covered
        assert remainder == 0 or remainder >= k, (uid, remainder)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tree=org_trees)
def test_every_output_respects_thresholds_and_complements(app, client, session, org, tree):
    company, plan = _build(session, tree)
    programme = save_programme(
        ProgrammeInput(
            name="P",
            item_ids=[i.id for i in ensure_default_bank(session=session)],
            unit_ids=[company.id],
            starts_on=utcnow().date(),
        ),
        session=session,
    )
    session.commit()
    cycle = open_now(programme, session=session, now=utcnow())
    invitations = {
        (inv.employee_id): inv.group_key
        for inv in session.exec(select(PulseInvitation).where(PulseInvitation.cycle_id == cycle.id))
    }
    items = cycle_items(cycle, session=session)
    answers = json.dumps({str(i.id): (7 if i.kind == "enps" else 4) for i in items})
    rows = []
    for unit, _, answering in plan:
        people = session.exec(
            select(User.id).where(User.unit_id == unit.id).order_by(User.id)
        ).all()[:answering]
        rows += [
            {
                "id": random_key(),
                "survey_id": cycle.id,
                "group_key": invitations[p],
                "answers": answers,
                "comment": f"c{p} {PHRASES[p % len(PHRASES)]}",
            }
            for p in people
        ]
    if rows:
        session.execute(sa.insert(SurveyResponse), rows)
        session.execute(
            sa.insert(SurveyParticipation),
            [
                {"survey_id": cycle.id, "employee_id": int(r["comment"].split()[0][1:])}
                for r in rows
            ],
        )
    session.commit()

    units, counts = _true_counts(session, cycle)
    ours = {u for u in units if units[u].path.startswith(f"/{company.id}/") or u == company.id}
    live = [r for r in live_progress(cycle, session=session) if r.unit.id in ours]
    live_shown = {r.unit.id for r in live if r.responded is not None}
    _assert_no_differencing(units, counts, live_shown, 5)

    close_cycle(cycle, session=session, now=cycle.closes_at)
    store_missing_analyses(session=session)  # what the scheduler's close job does next
    with client.session_transaction() as sess:
        sess["_user_id"] = org.hr.session_token
        sess["_fresh"] = True

    shown, with_comments = set(), set()
    for uid in ours:
        doc = client.get(f"/pulse/results/{uid}.json?cycle={cycle.id}").get_json()
        result = doc["result"]
        _assert_drivers_and_themes_released(doc, counts.get(uid, 0))
        if result["status"] == "shown":
            shown.add(uid)
            assert result["respondents"] == counts.get(uid, 0)
            if result["comments"] is not None:
                with_comments.add(uid)
                assert len(result["comments"]) == min(counts[uid], COMMENTS_SHOWN)
        else:
            assert "respondents" not in result and "comments" not in result
    for uid in ours - shown:  # pages of withheld units show neither numbers nor comments
        page = client.get(f"/pulse/results/{uid}?cycle={cycle.id}").get_data(as_text=True)
        assert "Engagement index" not in page and "<li>c" not in page
        assert "What moves engagement" not in page and "What people write about" not in page
    _assert_no_differencing(units, counts, shown, 5)
    _assert_no_differencing(units, counts, with_comments, 10)

    table = list(
        csv.DictReader(
            io.StringIO(client.get(f"/pulse/cycles/{cycle.id}/results.csv").get_data(as_text=True))
        )
    )
    by_code = {r["unit_code"]: r for r in table}
    for uid in ours:
        row = by_code[units[uid].code]  # every unit is listed: shown, suppressed or merged
        assert (row["status"] == "shown") == (uid in shown)
        if row["status"] != "shown":
            assert row["respondents"] == row["engagement"] == ""

    insight_rows = morale_by_unit_period(session=session, unit_ids=ours)
    assert {r["unit_id"] for r in insight_rows} == shown
    assert all(r["respondents"] >= 5 for r in insight_rows)
    # The customer drivers read question means of released cells only, each from 5 answers.
    item_rows = item_means_by_unit_period(session=session, unit_ids=ours)
    assert {r["unit_id"] for r in item_rows} <= shown
    assert all(r["n"] >= 5 for r in item_rows)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tree=org_trees, second_shares=st.lists(st.floats(0, 1), min_size=1, max_size=24))
def test_heatmap_cells_respect_thresholds_and_complements(
    app, client, session, org, tree, second_shares
):
    """Two cycles, so cells carry a change too; the heatmap page and its service both checked."""
    import re
    from datetime import timedelta

    from trainer.pulse import heatmap

    company, plan = _build(session, tree)
    programme = save_programme(
        ProgrammeInput(
            name="P",
            item_ids=[i.id for i in ensure_default_bank(session=session)],
            unit_ids=[company.id],
            starts_on=utcnow().date(),
        ),
        session=session,
    )
    session.commit()
    start = utcnow()
    for round_no in range(2):
        cycle = open_now(programme, session=session, now=start + timedelta(days=92 * round_no))
        invitations = {
            inv.employee_id: inv.group_key
            for inv in session.exec(
                select(PulseInvitation).where(PulseInvitation.cycle_id == cycle.id)
            )
        }
        items = cycle_items(cycle, session=session)
        rows = []
        for n, (unit, size, answering) in enumerate(plan):
            if round_no:  # a different share answers the second time
                answering = round(size * second_shares[n % len(second_shares)])
            people = session.exec(
                select(User.id).where(User.unit_id == unit.id).order_by(User.id)
            ).all()[:answering]
            answers = json.dumps(
                {str(i.id): (7 if i.kind == "enps" else 2 + round_no) for i in items}
            )
            rows += [
                {
                    "id": random_key(),
                    "survey_id": cycle.id,
                    "group_key": invitations[p],
                    "answers": answers,
                    "comment": None,
                }
                for p in people
            ]
        if rows:
            session.execute(sa.insert(SurveyResponse), rows)
        session.commit()
        close_cycle(cycle, session=session, now=cycle.closes_at)
        session.commit()

    units, counts = _true_counts(session, cycle)
    ours = {u for u in units if units[u].path.startswith(f"/{company.id}/") or u == company.id}
    grid = heatmap.build(session=session, cycle=cycle, unit_ids=None)
    rows_here = [r for r in grid.rows if r.unit.id in ours]
    assert {r.unit.id for r in rows_here} <= ours
    shown = set()
    for row in rows_here:
        if row.hidden is None:
            shown.add(row.unit.id)
            assert row.respondents == counts.get(row.unit.id, 0) >= 5
            assert len(row.cells) == len(grid.columns)
        else:
            assert row.respondents is None and row.cells == []
            # The reason never contradicts the floor.
            too_few = counts.get(row.unit.id, 0) < 5
            assert (row.hidden == anonymity.TOO_FEW) == too_few
    _assert_no_differencing(units, counts, shown, 5)

    with client.session_transaction() as sess:
        sess["_user_id"] = org.hr.session_token
        sess["_fresh"] = True
    page = client.get(f"/pulse/cycles/{cycle.id}/heatmap").get_data(as_text=True)
    on_page = {
        int(uid): n
        for uid, n in re.findall(r'<tr data-unit="(\d+)" data-respondents="(\d*)"', page)
    }
    assert {u for u, n in on_page.items() if n and u in ours} == shown
    assert all(int(n) >= 5 for n in on_page.values() if n)


def _home_cells(client, token: str) -> list[tuple[int, int]]:
    """Sign in by session token and return the home page's shown figures: (unit id, n)."""
    import re

    with client.session_transaction() as sess:
        sess["_user_id"] = token
        sess["_fresh"] = True
    response = client.get("/")
    assert response.status_code == 200
    return [
        (int(uid), int(n))
        for uid, n in re.findall(
            r'data-unit="(\d+)" data-n="(\d*)"', response.get_data(as_text=True)
        )
        if n
    ]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tree=org_trees)
def test_home_page_figures_respect_thresholds_and_complements(app, client, session, org, tree):
    """Every unit's manager and every team's employee read their home page, while the survey
    is open (live response rates) and after it closed (team results, morale): no figure for
    fewer than 5, and no set of shown figures lets a small group be worked out."""
    from trainer.insights import store
    from trainer.org.models import ManagedUnit

    store.clear_cache()
    company, plan = _build(session, tree)
    ours = sorted(
        u.id
        for u in session.exec(select(OrgUnit)).all()
        if u.path.startswith(f"/{company.id}/") or u.id == company.id
    )
    n = next(_counter)
    session.execute(
        sa.insert(User),
        [
            {
                "email": f"m{n}-{uid}@example.com",
                "name": "M",
                "roles": "manager",
                "unit_id": None,
                "active": True,
                "session_token": f"m{n}-{uid}",
                "created_at": utcnow(),
            }
            for uid in ours
        ],
    )
    managers = {
        uid: session.exec(select(User).where(User.email == f"m{n}-{uid}@example.com")).one()
        for uid in ours
    }
    session.execute(
        sa.insert(ManagedUnit), [{"user_id": m.id, "unit_id": uid} for uid, m in managers.items()]
    )
    programme = save_programme(
        ProgrammeInput(
            name="P",
            item_ids=[i.id for i in ensure_default_bank(session=session)],
            unit_ids=[company.id],
            starts_on=utcnow().date(),
        ),
        session=session,
    )
    session.commit()
    cycle = open_now(programme, session=session, now=utcnow())
    invitations = {
        inv.employee_id: inv.group_key
        for inv in session.exec(select(PulseInvitation).where(PulseInvitation.cycle_id == cycle.id))
    }
    answers = json.dumps(
        {str(i.id): (9 if i.kind == "enps" else 4) for i in cycle_items(cycle, session=session)}
    )
    rows, employees = [], []
    for unit, _, answering in plan:
        people = session.exec(select(User).where(User.unit_id == unit.id).order_by(User.id)).all()
        if people:
            employees.append(people[0])
        rows += [
            {
                "id": random_key(),
                "survey_id": cycle.id,
                "group_key": invitations[p.id],
                "answers": answers,
                "comment": None,
            }
            for p in people[:answering]
        ]
    if rows:
        session.execute(sa.insert(SurveyResponse), rows)
        session.execute(
            sa.insert(SurveyParticipation),
            [
                {"survey_id": cycle.id, "employee_id": p.id}
                for unit, _, answering in plan
                for p in session.exec(
                    select(User).where(User.unit_id == unit.id).order_by(User.id)
                ).all()[:answering]
            ],
        )
    session.commit()
    units, counts = _true_counts(session, cycle)

    live: dict[int, int] = {}
    for manager in managers.values():
        for cell_unit, shown_n in _home_cells(client, manager.session_token):
            live[cell_unit] = shown_n
    assert all(live[u] == counts.get(u, 0) >= 5 for u in live), live
    _assert_no_differencing(units, counts, set(live), 5)

    close_cycle(cycle, session=session, now=cycle.closes_at)
    store_missing_analyses(session=session)  # what the scheduler's close job does next
    session.commit()
    store.clear_cache()
    released: dict[int, int] = {}
    viewers = [e.session_token for e in employees] + [m.session_token for m in managers.values()]
    for token in viewers:
        for cell_unit, shown_n in _home_cells(client, token):
            released[cell_unit] = shown_n
    assert all(released[u] == counts.get(u, 0) >= 5 for u in released), released
    _assert_no_differencing(units, counts, set(released), 5)
