"""The demo step: eight quarters of first attempts, and a demo employee with practice due."""

from sqlmodel import func, select

from trainer.auth.models import User
from trainer.demo import build_org
from trainer.scenarios.demo import demo_step
from trainer.scenarios.models import ChoiceRecord, Play, ReserveItem, Scenario
from trainer.scenarios.practice import due_items
from trainer.scenarios.reports import ownership_by_unit_period
from trainer.util import quarter_of, shift_quarter, utcnow


def test_demo_history(app, session):
    with app.app_context():
        demo = build_org(session=session, employees=150)
        demo_step(session=session, demo=demo)
        session.commit()

    assert session.exec(select(func.count()).select_from(Scenario)).one() >= 8
    plays = session.exec(select(Play)).all()
    employee = session.exec(select(User).where(User.email == demo.logins["employee"])).one()
    others = [p for p in plays if p.user_id != employee.id]
    assert len(others) > 300
    assert all(p.mode == "play" and p.is_first_attempt and p.finished for p in others)
    current = quarter_of(utcnow().date())
    quarters = {shift_quarter(current, -n) for n in range(8)}
    assert {p.period for p in others} <= quarters
    assert len({p.period for p in others}) >= 7  # the current quarter may have just begun
    assert len({(p.user_id, p.scenario_id) for p in others}) == len(others)
    records = session.exec(select(func.count()).select_from(ChoiceRecord)).one()
    assert records == sum(len(p.path) for p in plays)

    [played] = [p for p in plays if p.user_id == employee.id]
    assert played.finished and played.ending in ("acceptable", "poor")
    [due] = due_items(session=session, user=employee)
    assert session.exec(select(func.count()).select_from(ReserveItem)).one() == 1
    assert due.scenario_id == played.scenario_id

    cells = ownership_by_unit_period(session=session)
    assert cells and all(c["players"] >= 5 for c in cells)
    rates = {c["ownership_rate"] for c in cells}
    assert len(rates) > 5 and all(0 <= r <= 1 for r in rates)
    # Small teams stay under the minimum group size, so some cells are suppressed.
    shown = {(c["unit_code"], c["period"]) for c in cells}
    assert any((team.code, current) not in shown for team in demo.teams)
