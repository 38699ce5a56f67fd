"""Analyses stored when a cycle closes: each released group's driver analysis and comment themes.

The scheduler's close job computes them (`store_cycle_analyses`), and catches up on closed
cycles that lack them (`store_missing_analyses`, e.g. cycles closed before this existed). Pages
and JSON only read them (`stored_drivers`, `stored_themes`), after `released_results` has said
the group may be shown, so a web request never computes an analysis and never loads
scikit-learn.

Which groups get an analysis is decided by the same rules as every page
(`anonymity.protect` over all cuts of the cycle): drivers for groups whose scores are released,
themes for groups whose comments are released and that have at least `themes.MIN_COMMENTS`
comments. Only counts and top terms are stored, never which comment fell in which theme.
"""

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session, select

from trainer import anonymity
from trainer.pulse import drivers
from trainer.pulse.cycles import cycle_limits
from trainer.pulse.models import (
    CommentTheme,
    CycleStatus,
    ItemKind,
    PulseCycle,
    SurveyResponse,
    UnitDrivers,
)
from trainer.pulse.programmes import cycle_items
from trainer.pulse.results import cut_tree, rollup_rows

log = logging.getLogger(__name__)

THEME_MIN_COMMENTS = 10  # the same floor as trainer.pulse.themes.MIN_COMMENTS (tested)


# Computing: the scheduler only ------------------------------------------------------------


def store_cycle_analyses(cycle: PulseCycle, *, session: Session) -> None:
    """Compute and store the drivers and comment themes of every released group of a closed
    cycle, replacing what was stored before (the caller commits)."""
    from trainer.pulse import themes  # scikit-learn: loaded by the scheduler, never the web

    rows = rollup_rows([cycle.id], session=session)[cycle.id]
    limits = cycle_limits(cycle)
    cuts = [anonymity.Cut(r.unit_id, r.parent_id, r.respondents) for r in rows]
    seen = anonymity.protect(cuts, limits)
    below = cut_tree(rows)
    items = {i.id: i.text for i in cycle_items(cycle, session=session) if i.kind == ItemKind.LIKERT}
    answers, comments = defaultdict(list), defaultdict(list)
    table = SurveyResponse.__table__
    for group_key, answer_json, comment in session.execute(
        sa.select(table.c.group_key, table.c.answers, table.c.comment).where(
            table.c.survey_id == cycle.id
        )
    ):
        answers[group_key].append(json.loads(answer_json))
        if comment:
            comments[group_key].append(comment)

    session.execute(sa.delete(UnitDrivers).where(UnitDrivers.cycle_id == cycle.id))
    session.execute(sa.delete(CommentTheme).where(CommentTheme.cycle_id == cycle.id))
    stored_drivers_rows, theme_rows = [], []
    for row in rows:
        if row.unit_id not in seen.scores:
            continue
        groups = below[row.unit_id]
        if row.respondents < drivers.MIN_ANSWERS:
            analysis = drivers.DriverAnalysis(drivers.DriverStatus.TOO_FEW_ANSWERS, row.respondents)
        else:
            analysis = drivers.analyse([a for g in groups for a in answers[g]], items)
        stored_drivers_rows.append(
            {"cycle_id": cycle.id, "unit_id": row.unit_id, "analysis": drivers.encode(analysis)}
        )
        if row.unit_id not in seen.comments or row.comments < THEME_MIN_COMMENTS:
            continue
        text = [c for g in groups for c in comments[g]]
        for position, theme in enumerate(themes.find_themes(text, seed=cycle.id)):
            theme_rows.append(
                {
                    "cycle_id": cycle.id,
                    "unit_id": row.unit_id,
                    "position": position,
                    "language": "",  # answers carry no language (see trainer.pulse.themes)
                    "terms": ", ".join(theme.terms),
                    "bank_theme": theme.bank_theme,
                    "comments": theme.comments,
                    "of_comments": theme.of_comments,
                }
            )
    if stored_drivers_rows:
        session.execute(sa.insert(UnitDrivers), stored_drivers_rows)
    if theme_rows:
        session.execute(sa.insert(CommentTheme), theme_rows)
    cycle.analyses_done = True
    session.add(cycle)
    log.info("Pulse cycle %s: analyses stored for %s groups.", cycle.id, len(stored_drivers_rows))


def store_missing_analyses(*, session: Session) -> int:
    """Store the analyses of closed cycles that have none yet; return how many cycles."""
    todo = session.exec(
        select(PulseCycle).where(
            PulseCycle.status == CycleStatus.CLOSED,
            PulseCycle.rollups_done.is_(True),
            PulseCycle.analyses_done.is_(False),
        )
    ).all()
    for cycle in todo:
        store_cycle_analyses(cycle, session=session)
        session.commit()  # each cycle on its own: one failure leaves the others done
    return len(todo)


# Reading: pages and JSON -----------------------------------------------------------------


def stored_drivers(
    cycle: PulseCycle, released: anonymity.Released | None, *, session: Session
) -> drivers.DriverAnalysis | None:
    """Return a released group's stored driver analysis, None if the group is not released, or
    a PENDING analysis when the scheduler has not stored it yet."""
    if released is None or released.suppressed:
        return None
    if released.respondents < drivers.MIN_ANSWERS:
        return drivers.DriverAnalysis(drivers.DriverStatus.TOO_FEW_ANSWERS, released.respondents)
    row = session.get(UnitDrivers, (cycle.id, released.key))
    if row is None:
        return drivers.DriverAnalysis(drivers.DriverStatus.PENDING, released.respondents)
    return drivers.decode(row.analysis)


class ThemeStatus(StrEnum):
    SHOWN = "shown"
    TOO_FEW_COMMENTS = "too_few_comments"  # fewer than 10 comments in the group
    NONE_FOUND = "none_found"  # enough comments, but no word recurs
    PENDING = "pending"


@dataclass(frozen=True)
class Themes:
    status: ThemeStatus
    comments: int  # comments in the group
    themes: list[CommentTheme]
    minimum: int = THEME_MIN_COMMENTS


def stored_themes(
    cycle: PulseCycle, released: anonymity.Released | None, *, session: Session, rows: list
) -> Themes | None:
    """Return a group's stored comment themes, or None when its comments are not released.

    `rows` are the cycle's rollup rows (`rollup_rows`), which count each group's comments.
    """
    if released is None or released.comments is None:
        return None
    comments = next(r.comments for r in rows if r.unit_id == released.key)
    if comments < THEME_MIN_COMMENTS:
        return Themes(ThemeStatus.TOO_FEW_COMMENTS, comments, [])
    rows = list(
        session.exec(
            select(CommentTheme)
            .where(CommentTheme.cycle_id == cycle.id, CommentTheme.unit_id == released.key)
            .order_by(CommentTheme.position)
        )
    )
    if rows:
        return Themes(ThemeStatus.SHOWN, comments, rows)
    if not cycle.analyses_done:
        return Themes(ThemeStatus.PENDING, comments, [])
    return Themes(ThemeStatus.NONE_FOUND, comments, [])
