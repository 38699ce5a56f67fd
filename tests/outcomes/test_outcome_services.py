"""The service functions the dashboard and demo data build on."""

from trainer.outcomes import imports, metrics, queries
from trainer.outcomes.validation import HIGHER, LOWER


def test_metrics_lists_the_built_ins_then_custom_ones(org, session):
    metrics.create_metric(
        session=session,
        code="first_fix",
        label="First-time fix",
        direction=HIGHER,
        min_value=0,
        max_value=100,
        needs_n=True,
    )
    found = {m.code: m for m in metrics.metrics(session=session)}
    assert list(found) == ["csat", "nps", "csi", "complaints", "retention", "first_fix"]
    assert (found["nps"].min_value, found["nps"].max_value) == (-100, 100)
    assert found["complaints"].direction == LOWER and not found["complaints"].needs_n
    assert found["first_fix"].custom and found["first_fix"].id is not None
    assert not found["csat"].custom


def test_upsert_outcomes_loads_rows_in_bulk_and_reports_counts(org, session, stored):
    rows = [
        {
            "unit_id": unit.id,
            "period": period,
            "metric": "csat",
            "value": 70.0 + i,
            "n": 50,
            "topbox": 0.3,
            "responses": 50,
            "invited": 200,
        }
        for i, (unit, period) in enumerate(
            (u, p) for u in (org.t1, org.t2, org.t3) for p in ("2025Q3", "2025Q4")
        )
    ]
    assert imports.upsert_outcomes(session=session, rows=rows, source="demo") == (6, 0, 0)
    session.commit()
    assert imports.upsert_outcomes(session=session, rows=rows) == (0, 0, 6)
    changed = [{"unit_id": org.t1.id, "period": "2025Q3", "metric": "csat", "value": 99.0}]
    assert imports.upsert_outcomes(session=session, rows=changed) == (0, 1, 0)
    session.commit()
    t1 = [r for r in stored()[0] if r[0] == org.t1.id and r[1] == "2025Q3"]
    assert t1 == [(org.t1.id, "2025Q3", "csat", 99.0, 50, 0.3, 50, 200)]


def test_outcomes_by_unit_period_gives_one_dict_per_unit_and_quarter(org, session):
    imports.upsert_outcomes(
        session=session,
        rows=[
            {"unit_id": org.t2.id, "period": "2026Q1", "metric": "csat", "value": 80.0, "n": 90},
            {
                "unit_id": org.t1.id,
                "period": "2026Q2",
                "metric": "csat",
                "value": 82.0,
                "n": 95,
                "topbox": 0.4,
                "responses": 95,
                "invited": 300,
            },
            {"unit_id": org.t1.id, "period": "2026Q1", "metric": "csat", "value": 81.0, "n": 99},
            {"unit_id": org.t1.id, "period": "2026Q1", "metric": "nps", "value": 30.0, "n": 99},
        ],
    )
    session.commit()
    rows = queries.outcomes_by_unit_period(session=session, metric="csat")
    assert [(r["unit_code"], r["period"]) for r in rows] == [
        ("T1", "2026Q1"),
        ("T1", "2026Q2"),
        ("T2", "2026Q1"),
    ]
    assert rows[1] == {
        "unit_id": org.t1.id,
        "unit_code": "T1",
        "period": "2026Q2",
        "value": 82.0,
        "n": 95,
        "topbox": 0.4,
        "responses": 95,
        "invited": 300,
    }
    only_t2 = queries.outcomes_by_unit_period(session=session, metric="csat", unit_ids={org.t2.id})
    assert [r["unit_code"] for r in only_t2] == ["T2"]
    assert queries.outcomes_by_unit_period(session=session, metric="csat", unit_ids=set()) == []
