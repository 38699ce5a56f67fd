"""Live response counts of an open cycle, per reporting unit, and when "below 50%" alerts start.

Counts only, never answers; small counts are withheld through `trainer.anonymity.release`.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from trainer import anonymity
from trainer.org.models import OrgUnit
from trainer.pulse.cycles import aware, cycle_limits
from trainer.pulse.models import (
    CycleAudience,
    PulseCycle,
    PulseInvitation,
    SurveyParticipation,
)
from trainer.pulse.tree import ancestor_ids, tree_depth, tree_key, units_by_id


@dataclass(frozen=True)
class ProgressRow:
    unit: OrgUnit
    depth: int
    invited: int
    responded: int | None  # None: withheld, fewer than the minimum or a differencing risk
    below_half: bool  # raised only once half the survey window has passed


def halfway(cycle: PulseCycle) -> datetime:
    """Return the moment half of the cycle's answering window has passed."""
    opens, closes = aware(cycle.opens_at), aware(cycle.closes_at)
    return opens + (closes - opens) / 2


def alerts_due(cycle: PulseCycle, *, now: datetime) -> bool:
    """Return whether "below 50%" alerts apply yet: only once half the window has passed."""
    return aware(now) >= halfway(cycle)


def live_progress(
    cycle: PulseCycle,
    unit_ids: set[int] | None = None,
    *,
    session: Session,
    now: datetime | None = None,
) -> list[ProgressRow]:
    """Return live response counts per reporting unit, with the score thresholds applied.

    Rows come in tree order. A unit is flagged below 50% only after half the window has
    passed: early in a survey every unit is below half, and an alert then says nothing.
    """
    alerts_on = alerts_due(cycle, now=now or datetime.now(UTC))
    counts = dict(
        session.execute(
            sa.select(PulseInvitation.group_key, sa.func.count())
            .join(
                SurveyParticipation,
                sa.and_(
                    SurveyParticipation.survey_id == PulseInvitation.cycle_id,
                    SurveyParticipation.employee_id == PulseInvitation.employee_id,
                ),
            )
            .where(PulseInvitation.cycle_id == cycle.id)
            .group_by(PulseInvitation.group_key)
        ).all()
    )
    units = units_by_id(session=session)
    invited_by_group: Counter = Counter()
    for row in session.exec(select(CycleAudience).where(CycleAudience.cycle_id == cycle.id)):
        invited_by_group[row.group_key] += row.invited
    responded: Counter = Counter()
    invited: Counter = Counter()
    for key, n_invited in invited_by_group.items():
        for unit_id in [*ancestor_ids(units[key]), key]:
            responded[unit_id] += counts.get(key, 0)
            invited[unit_id] += n_invited
    cells = []
    for unit_id in invited:
        chain = [a for a in ancestor_ids(units[unit_id]) if a in invited]
        cells.append(
            anonymity.Cell(
                unit_id, chain[-1] if chain else None, responded[unit_id], responded[unit_id]
            )
        )
    released = anonymity.release(cells, cycle_limits(cycle))
    rows = []
    for unit_id in sorted(invited, key=lambda u: tree_key(units[u], units)):
        if unit_ids is not None and unit_id not in unit_ids:
            continue
        rate = responded[unit_id] / invited[unit_id] if invited[unit_id] else 0
        rows.append(
            ProgressRow(
                units[unit_id],
                tree_depth(units[unit_id]),
                invited[unit_id],
                released[unit_id].scores,
                alerts_on and rate < 0.5,
            )
        )
    return rows
