"""Driver analysis of a unit's released results in a closed cycle.

Answers are read only for a unit whose results `released_results` shows, and only when its
group has at least `drivers.MIN_ANSWERS` responses; suppressed and merged units get nothing.
"""

import json

import sqlalchemy as sa
from sqlmodel import Session

from trainer import anonymity
from trainer.pulse.drivers import MIN_ANSWERS, DriverAnalysis, DriverStatus, analyse
from trainer.pulse.models import ItemKind, PulseCycle, SurveyResponse
from trainer.pulse.programmes import cycle_items
from trainer.pulse.results import cut_tree, released_results, rollup_rows
from trainer.pulse.wording import item_text


def released_drivers(
    *,
    session: Session,
    cycle: PulseCycle,
    unit_id: int,
    released: anonymity.Released | None = None,
    rows: list | None = None,
) -> DriverAnalysis | None:
    """Return the driver analysis of a unit's released group, or None if it is not released.

    Each driver's `item_text` is in the reader's language.

    `released` and `rows` may pass the unit's released result and the cycle's rollup rows when
    the caller has them already.
    """
    if rows is None:
        rows = rollup_rows([cycle.id], session=session)[cycle.id]
    if released is None:
        released = released_results(
            session=session, cycle=cycle, unit_ids={unit_id}, items=False, comments=False, rows=rows
        ).get(unit_id)
    if released is None or released.suppressed:
        return None
    if released.respondents < MIN_ANSWERS:
        return DriverAnalysis(DriverStatus.TOO_FEW_ANSWERS, released.respondents)
    items = {
        i.id: item_text(i) for i in cycle_items(cycle, session=session) if i.kind == ItemKind.LIKERT
    }
    table = SurveyResponse.__table__
    answers = session.execute(
        sa.select(table.c.answers).where(
            table.c.survey_id == cycle.id, table.c.group_key.in_(cut_tree(rows)[unit_id])
        )
    ).scalars()
    return analyse([json.loads(a) for a in answers], items)
