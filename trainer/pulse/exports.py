"""A unit's results as a JSON document (scores, trend, ledger) and a closed cycle's CSV table.

Both are built from `trainer.pulse.results`, so only released numbers go out.
"""

from sqlmodel import Session, select

from trainer import anonymity
from trainer.anonymity import FigureStatus
from trainer.org.models import OrgUnit
from trainer.pulse.analyses import stored_themes
from trainer.pulse.cycles import cycle_limits
from trainer.pulse.driver_results import released_drivers
from trainer.pulse.drivers import DriverAnalysis, DriverStatus
from trainer.pulse.ledger import commitments_for, released_tallies
from trainer.pulse.models import CycleAudience, ItemKind, PulseCycle
from trainer.pulse.programmes import cycle_items
from trainer.pulse.results import (
    UnitScores,
    closed_cycles,
    cycles_up_to,
    released_results,
    reporting_group,
    rollup_rows,
    trend,
)
from trainer.pulse.tree import tree_key, units_by_id
from trainer.pulse.wording import item_text, reader_language


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _scores_document(scores: UnitScores, *, alpha: bool = True) -> dict:
    doc = {
        "respondents": scores.respondents,
        "invited": scores.invited,
        "response_rate": _round(scores.response_rate, 3),
        "engagement": _round(scores.engagement),
        "enps": _round(scores.enps, 1),
        "enps_moe": _round(scores.enps_moe, 1),
        "cronbach_alpha": _round(scores.alpha),
        "items": [
            {
                "code": s.item.code,
                "theme": s.item.theme,
                "text": s.item.text,
                "reader_text": item_text(s.item),  # the wording in the reader's language
                "n": s.n,
                "mean": _round(s.mean),
                "distribution": dict(s.distribution),
            }
            for s in scores.items
        ],
    }
    if not alpha:  # front-line staff are not shown Cronbach's alpha
        del doc["cronbach_alpha"]
    return doc


def _drivers_document(
    analysis: DriverAnalysis | None, items: dict[int, str], reader_texts: dict[int, str]
) -> list[dict]:
    """Return one entry per Likert item; without estimates when the group is too small, and
    none while the scheduler has not stored the analysis yet.

    `item_text` is the English wording the analysis knows; `reader_text` the reader's."""
    if analysis is None or analysis.status == DriverStatus.PENDING:
        return []
    if analysis.status == DriverStatus.TOO_FEW_ANSWERS:
        return [
            {
                "item_id": item_id,
                "item_text": text,
                "reader_text": reader_texts.get(item_id, text),
                "target": "engagement",
                "estimate": None,
                "ci_low": None,
                "ci_high": None,
                "q_value": None,
                "n": analysis.n,
                "status": DriverStatus.TOO_FEW_ANSWERS,
            }
            for item_id, text in items.items()
        ]
    return [
        {
            "item_id": d.item_id,
            "item_text": items.get(d.item_id, d.item_text),
            "reader_text": reader_texts.get(d.item_id, d.item_text),
            "target": "engagement",
            "estimate": _round(d.estimate, 3),
            "ci_low": _round(d.ci_low, 3),
            "ci_high": _round(d.ci_high, 3),
            "q_value": d.q_value,
            "n": d.n,
            "status": d.status,
        }
        for d in analysis.drivers
    ]


def results_document(
    *, session: Session, unit: OrgUnit, cycle: PulseCycle | None, alpha: bool = True
) -> dict:
    """Return a unit's released results, trend and ledger as a JSON-ready dict.

    `alpha=False` leaves out Cronbach's alpha, which only HR and admins are shown.
    """
    doc: dict = {
        "language": reader_language(),  # of every `reader_text`
        "unit": {"id": unit.id, "code": unit.code, "name": unit.name},
        "cycle": None,
        "result": None,
        "trend": [],
        "ledger": [],
        "drivers": [],
        "themes": [],
    }
    if cycle is None:
        return doc
    limits = cycle_limits(cycle)
    doc["cycle"] = {"id": cycle.id, "period": cycle.period, "quarter": cycle.quarter}
    doc["thresholds"] = {"scores": limits.scores, "comments": limits.comments}
    rows = rollup_rows([cycle.id], session=session)[cycle.id]
    released = released_results(session=session, cycle=cycle, unit_ids={unit.id}, rows=rows).get(
        unit.id
    )
    if released is None:
        group = reporting_group(cycle, unit.id, session=session)
        doc["result"] = {
            "status": FigureStatus.MERGED,
            "merged_into": group.code if group else None,
        }
    elif released.suppressed:
        doc["result"] = {"status": FigureStatus.SUPPRESSED, "message": anonymity.SUPPRESSED_TEXT}
    else:
        doc["result"] = {
            "status": FigureStatus.SHOWN,
            **_scores_document(released.scores, alpha=alpha),
            "comments": released.comments,
        }
        likert = [i for i in cycle_items(cycle, session=session) if i.kind == ItemKind.LIKERT]
        analysis = released_drivers(
            session=session, cycle=cycle, unit_id=unit.id, released=released, rows=rows
        )
        doc["drivers"] = _drivers_document(
            analysis, {i.id: i.text for i in likert}, {i.id: item_text(i) for i in likert}
        )
        themes = stored_themes(cycle, released, session=session, rows=rows)
        if themes is not None:
            doc["themes"] = [
                {
                    "terms": t.terms.split(", "),
                    "bank_theme": t.bank_theme or None,
                    "comments": t.comments,
                    "share": round(t.comments / t.of_comments, 4),
                }
                for t in themes.themes
            ]
    until_now = cycles_up_to(closed_cycles(cycle.programme_id, session=session), cycle)
    for point in trend(
        session=session, unit_id=unit.id, programme_id=cycle.programme_id, cycles=until_now
    ):
        entry = {"period": point.cycle.period, "status": FigureStatus.MERGED}
        if point.result is not None and point.result.suppressed:
            entry["status"] = FigureStatus.SUPPRESSED
        elif point.result is not None:
            s = point.result.scores
            entry.update(
                status=FigureStatus.SHOWN,
                respondents=s.respondents,
                response_rate=_round(s.response_rate, 3),
                engagement=_round(s.engagement),
                enps=_round(s.enps, 1),
                enps_moe=_round(s.enps_moe, 1),
            )
        doc["trend"].append(entry)
    commitments = commitments_for({unit.id}, session=session)
    tallies = released_tallies([c.id for c in commitments], session=session)
    periods = {c.id: c.period for c in session.exec(select(PulseCycle)).all()}
    doc["ledger"] = [
        {
            "after": periods.get(c.cycle_id),
            "text": c.text,
            "status": c.status,
            "due_on": c.due_on.isoformat() if c.due_on else None,
            "theme": c.theme,
            "marks": dict(tallies[c.id]) if tallies[c.id] is not None else None,
        }
        for c in commitments
    ]
    return doc


def results_table(*, session: Session, cycle: PulseCycle, unit_ids: set[int] | None) -> list[list]:
    """Return the CSV export of a closed cycle: one row per unit the viewer may see."""
    items = cycle_items(cycle, session=session)
    header = [
        "unit_code",
        "unit_name",
        "period",
        "status",
        "respondents",
        "invited",
        "response_rate",
        "engagement",
        "enps",
        "enps_moe",
        *[i.code for i in items],
    ]
    units = units_by_id(session=session)
    released = released_results(session=session, cycle=cycle, unit_ids=unit_ids, comments=False)
    rows = [header]
    for unit_id in sorted(released, key=lambda u: tree_key(units[u], units)):
        r, unit = released[unit_id], units[unit_id]
        if r.suppressed:
            rows.append(
                [
                    unit.code,
                    unit.name,
                    cycle.period,
                    FigureStatus.SUPPRESSED,
                    *[""] * (len(header) - 4),
                ]
            )
            continue
        s: UnitScores = r.scores
        means = {score.item.id: _round(score.mean) for score in s.items}
        rows.append(
            [
                unit.code,
                unit.name,
                cycle.period,
                FigureStatus.SHOWN,
                s.respondents,
                s.invited,
                _round(s.response_rate, 3),
                _round(s.engagement),
                _round(s.enps, 1),
                _round(s.enps_moe, 1),
                *[means.get(i.id, "") for i in items],
            ]
        )
    merged = session.exec(
        select(CycleAudience).where(
            CycleAudience.cycle_id == cycle.id, CycleAudience.group_key != CycleAudience.unit_id
        )
    ).all()
    for row in merged:
        if row.unit_id in released or (unit_ids is not None and row.unit_id not in unit_ids):
            continue
        unit = units[row.unit_id]
        rows.append(
            [
                unit.code,
                unit.name,
                cycle.period,
                f"merged into {units[row.group_key].code}",
                *[""] * (len(header) - 4),
            ]
        )
    return rows
