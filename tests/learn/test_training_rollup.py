"""The dashboard's training measures come from a rollup that a scheduler job refreshes."""

from datetime import date

import pytest

from tests.learn.test_learn_reports import assign, complete
from trainer.insights import store
from trainer.insights.training_rollup import training_rows
from trainer.scheduler import run_all


def completion_by_unit(session):
    return {(r["unit_id"], r["period"]): r for r in training_rows(session=session)[0]}


def test_the_scheduler_summarises_completion_and_the_dashboard_reads_only_that(
    app, session, org, course, make_user
):
    assign(session, course, org.s1, date(2025, 2, 15))
    complete(session, org.employee, course, date(2025, 2, 1))  # T1, on time; the S1 manager never
    assert completion_by_unit(session) == {}  # nothing summarised yet
    before = store.data_version(session=session)["training"]

    run_all(app)  # the scheduler's catch-up run
    session.commit()  # a new transaction sees the job's work

    rows = completion_by_unit(session)
    assert rows[(org.t1.id, "2025Q1")] == {
        "unit_id": org.t1.id,
        "period": "2025Q1",
        "assigned": 1,
        "completion_rate": 1.0,
    }
    assert rows[(org.s1.id, "2025Q1")]["assigned"] == 2
    assert rows[(org.s1.id, "2025Q1")]["completion_rate"] == pytest.approx(0.5)
    assert store.data_version(session=session)["training"] != before

    # A refresh that finds nothing new leaves the rollup, and the cached analyses, alone.
    settled = store.data_version(session=session)["training"]
    run_all(app)
    session.commit()
    assert store.data_version(session=session)["training"] == settled

    # New completions wait for the next refresh instead of costing every dashboard view.
    complete(session, org.manager, course, date(2025, 2, 10))
    assert completion_by_unit(session)[(org.s1.id, "2025Q1")]["completion_rate"] == 0.5
    run_all(app)
    session.commit()
    assert completion_by_unit(session)[(org.s1.id, "2025Q1")]["completion_rate"] == 1.0
