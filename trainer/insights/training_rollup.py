"""The training rollup: completion and ownership per (unit, quarter) for the dashboard.

These summaries read per-person enrolments and plays, so a scheduler job computes them from
the learn and scenarios summaries, and the dashboard reads only the small result.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from trainer.insights.models import TrainingRollup
from trainer.learn.reports import completion_by_unit_period
from trainer.scenarios.reports import ownership_by_unit_period

TRAINING_REFRESH_MINUTES = 30


def refresh_training_rollups(*, session: Session, now: datetime) -> int:
    """Replace the training rollup with fresh completion and ownership summaries (a job).

    These summaries read per-person enrolments and plays, so they are computed here, in the
    scheduler, and the dashboard only reads the small result. An unchanged summary is left as
    it is, so the dashboard's cached analyses stay valid. Returns the number of rows written.
    """
    sizes = {"completion": "assigned", "ownership": "players"}
    fresh = {
        (measure, r["unit_id"], r["period"], r[sizes[measure]], r[f"{measure}_rate"])
        for measure, summary in (
            ("completion", completion_by_unit_period),
            ("ownership", ownership_by_unit_period),
        )
        for r in summary(session=session)
    }
    stored = set(
        session.execute(
            sa.select(
                TrainingRollup.measure,
                TrainingRollup.unit_id,
                TrainingRollup.period,
                TrainingRollup.size,
                TrainingRollup.rate,
            )
        ).tuples()
    )
    if fresh == stored:
        return 0
    session.execute(sa.delete(TrainingRollup))
    if fresh:
        columns = ("measure", "unit_id", "period", "size", "rate")
        session.execute(
            sa.insert(TrainingRollup),
            [{**dict(zip(columns, row, strict=True)), "refreshed_at": now} for row in fresh],
        )
    return len(fresh)


def training_rows(*, session: Session) -> tuple[list[dict], list[dict]]:
    """Return (completion rows, ownership rows) from the training rollup."""
    completion, ownership = [], []
    for row in session.exec(select(TrainingRollup)).all():
        if row.measure == "completion":
            completion.append(
                {
                    "unit_id": row.unit_id,
                    "period": row.period,
                    "assigned": row.size,
                    "completion_rate": row.rate,
                }
            )
        else:
            ownership.append(
                {
                    "unit_id": row.unit_id,
                    "period": row.period,
                    "players": row.size,
                    "ownership_rate": row.rate,
                }
            )
    return completion, ownership
