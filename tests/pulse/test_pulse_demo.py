"""The demo pulse history and the functions the insights dashboard calls."""

import statistics
from collections import defaultdict
from itertools import pairwise

from sqlmodel import select

from trainer.auth.models import User
from trainer.demo import build_org
from trainer.pulse import plans
from trainer.pulse.demo import add_pulse_history
from trainer.pulse.ledger import commitments_for, released_tallies
from trainer.pulse.models import THEMES, PulseCycle
from trainer.pulse.morale import morale_by_unit_period, suppressed_units, team_customer_focus
from trainer.pulse.submit import invitation_for
from trainer.util import quarter_of, shift_quarter, utcnow


def test_demo_has_eight_closed_quarters_an_open_cycle_and_a_ledger(app, session):
    demo = build_org(session=session, employees=400)
    add_pulse_history(session=session, demo=demo)
    session.commit()
    current = quarter_of(utcnow().date())
    cycles = session.exec(select(PulseCycle).order_by(PulseCycle.opens_at)).all()
    assert [c.period for c in cycles] == [shift_quarter(current, n) for n in range(-8, 1)]
    assert [c.status for c in cycles] == ["closed"] * 8 + ["open"]

    employee = session.exec(select(User).where(User.email == "employee@example.com")).one()
    invitation = invitation_for(cycles[-1], employee, session=session)
    assert invitation is not None and not invitation.answered
    manager_site = demo.sites[0]
    site_units = {manager_site.id} | {t.id for t in demo.teams if t.parent_id == manager_site.id}
    commitments = commitments_for(site_units, session=session)
    assert len(commitments) >= 4
    tallies = released_tallies([c.id for c in commitments], session=session)
    assert any(t is not None for t in tallies.values())
    assert any(t is None for t in tallies.values())  # the newest wait for marks
    # Action plans: each with an owner, a due date, a theme and its status history.
    history = plans.history([c.id for c in commitments], session=session)
    for action in commitments:
        assert action.owner_id and action.due_on and action.theme in THEMES
        assert history[action.id][0].status == "planned"
        assert history[action.id][-1].status == action.status
    assert {"done", "in_progress", "planned"} <= {c.status for c in commitments}
    assert plans.open_actions(site_units, utcnow().date(), session=session)

    rows = morale_by_unit_period(session=session)
    assert {r["period"] for r in rows} == {c.quarter for c in cycles[:-1]}
    for row in rows:
        assert row["respondents"] >= 5 and 1 <= row["engagement"] <= 5
        assert -100 <= row["enps"] <= 100 and row["enps_moe"] >= 0
        assert 1 <= row["customer_focus"] <= 5
    team_codes = {t.code for t in demo.teams}
    assert len({r["unit_code"] for r in rows} & team_codes) >= 10

    suppressed = suppressed_units(session=session)
    assert any(s["unit_code"].endswith("PARTS") and s["reason"] == "merged" for s in suppressed)
    assert not {(s["unit_id"], s["period"]) for s in suppressed} & {
        (r["unit_id"], r["period"]) for r in rows
    }
    assert all("respondents" not in s for s in suppressed)
    focus = team_customer_focus(session=session, unit_ids={demo.teams[0].id})
    assert focus and {r["unit_id"] for r in focus} == {demo.teams[0].id}

    # Morale drifts smoothly within a team and differs between teams.
    series = defaultdict(list)
    for row in rows:
        if row["unit_code"] in team_codes:
            series[row["unit_code"]].append(row["engagement"])
    steps = [abs(b - a) for values in series.values() for a, b in pairwise(values)]
    means = [statistics.mean(v) for v in series.values() if len(v) >= 4]
    assert statistics.mean(steps) < 0.4
    assert max(means) - min(means) > 0.3
