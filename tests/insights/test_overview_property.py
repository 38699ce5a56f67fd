"""Property test: the insights overview and heatmap show morale only where the pulse rules
release it, for random org trees and participation (no cell under 5, no differencing)."""

import json

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from sqlmodel import select

from tests.pulse.test_pulse_thresholds_property import (
    _assert_no_differencing,
    _build,
    _true_counts,
    org_trees,
)
from trainer.auth.models import User
from trainer.insights import store
from trainer.pulse.bank import ensure_default_bank
from trainer.pulse.cycles import close_cycle, open_now
from trainer.pulse.models import PulseInvitation, SurveyParticipation, SurveyResponse, random_key
from trainer.pulse.programmes import ProgrammeInput, cycle_items, save_programme
from trainer.util import utcnow


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tree=org_trees)
def test_overview_and_heatmap_respect_thresholds_and_complements(app, client, session, org, tree):
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
        inv.employee_id: inv.group_key
        for inv in session.exec(select(PulseInvitation).where(PulseInvitation.cycle_id == cycle.id))
    }
    items = cycle_items(cycle, session=session)
    answers = json.dumps({str(i.id): (7 if i.kind == "enps" else 4) for i in items})
    people = [
        p
        for unit, _, answering in plan
        for p in session.exec(
            select(User.id).where(User.unit_id == unit.id).order_by(User.id)
        ).all()[:answering]
    ]
    if people:
        session.execute(
            sa.insert(SurveyResponse),
            [
                {
                    "id": random_key(),
                    "survey_id": cycle.id,
                    "group_key": invitations[p],
                    "answers": answers,
                    "comment": None,
                }
                for p in people
            ],
        )
        session.execute(
            sa.insert(SurveyParticipation),
            [{"survey_id": cycle.id, "employee_id": p} for p in people],
        )
    session.commit()
    close_cycle(cycle, session=session, now=cycle.closes_at)
    units, counts = _true_counts(session, cycle)
    store.clear_cache()

    shown = set()
    for unit_id in [company.id] + [u.id for u, _, _ in plan]:
        unit = units[unit_id]
        for rows in (None, "team"):
            view = store.overview_for(session=session, metric="csi", unit=unit, rows=rows)
            cards = [view["morale"], view["enps"]]
            cells = [
                row["cells"][code]
                for row in view["heatmap"]["rows"]
                for code in ("engagement", "enps")
            ]
            for cell in [*cards, *cells]:
                assert (cell["value"] is None) == (cell["n"] is None)
                if cell["n"] is not None:
                    assert cell["n"] >= 5
            for row in view["heatmap"]["rows"]:
                if row["cells"]["engagement"]["status"] == "shown":
                    shown.add(row["unit"].id)
                    assert row["cells"]["engagement"]["n"] == counts[row["unit"].id]
            if view["morale"]["status"] == "shown":
                shown.add(unit_id)
                assert view["morale"]["n"] == counts[unit_id]
    _assert_no_differencing(units, counts, shown, 5)
    # End the transaction that stored those analyses: on PostgreSQL the page's own connection
    # would otherwise wait on it to store one of them again (once this process's cache has let
    # it go), while this test waits on the page.
    session.commit()

    with client.session_transaction() as sess:
        sess["_user_id"] = org.hr.session_token
        sess["_fresh"] = True
    response = client.get(f"/insights/units/{company.id}?rows=team")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for row in page.split("<tr>")[1:]:
        for unit in (u for u, _, _ in plan if u.kind == "team" and u.id not in shown):
            if f'href="/insights/units/{unit.id}?' in row:  # its morale cell shows no figure
                morale_cell = row.split("<td")[1]
                assert "hidden" in morale_cell or "–" in morale_cell, row
