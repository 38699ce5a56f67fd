"""Pulse results as HR products show them: a questions x units heatmap, and diverging bars.

Everything here is read from the rollups through `released_results`, so every cell
has passed `anonymity.release` (the same floors and differencing rules as every other page).
A cell's change since the last cycle and its difference from the company are computed only
from numbers that were released themselves.
"""

from dataclasses import dataclass, field

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from trainer import anonymity
from trainer.i18n import number as locale_number
from trainer.org.models import OrgUnit
from trainer.pulse.cycles import cycle_limits
from trainer.pulse.models import LIKERT_LABELS, THEMES, ItemKind, PulseCycle
from trainer.pulse.programmes import cycle_items
from trainer.pulse.results import (
    ItemScore,
    UnitScores,
    closed_cycles,
    released_results,
    rollup_rows,
)
from trainer.pulse.tree import ancestor_ids, short_name, tree_key
from trainer.pulse.wording import item_text

ENGAGEMENT = "engagement"
ENPS = "enps"

# Colour bands: (lowest value in the band, band name, words for the legend), best first.
MEAN_BANDS = (
    (4.0, "b5", "4.00 or more"),
    (3.5, "b4", "3.50 to 3.99"),
    (3.0, "b3", "3.00 to 3.49"),
    (2.5, "b2", "2.50 to 2.99"),
    (float("-inf"), "b1", "under 2.50"),
)
ENPS_BANDS = (
    (30, "b5", "+30 or more"),
    (10, "b4", "+10 to +29"),
    (-10, "b3", "-10 to +9"),
    (-30, "b2", "-30 to -11"),
    (float("-inf"), "b1", "under -30"),
)


@dataclass(frozen=True)
class Column:
    key: int | str  # an item id, ENGAGEMENT or ENPS
    number: int | None  # the question's number in the survey
    label: str  # short, for the column heading
    text: str  # the full question
    kind: str  # "mean" (1 to 5) or "enps" (-100 to +100)


@dataclass(frozen=True)
class HeatCell:
    value: float | None = None
    band: str | None = None
    change: float | None = None  # since the previous cycle; None: nothing to compare with
    versus_company: float | None = None
    hidden: str | None = None  # why the cell is withheld


@dataclass(frozen=True)
class HeatRow:
    unit: OrgUnit
    label: str
    depth: int
    is_company: bool
    respondents: int | None  # None when the row is withheld
    invited: int | None
    hidden: str | None  # why the whole row is withheld
    cells: list[HeatCell] = field(default_factory=list)


@dataclass(frozen=True)
class Heatmap:
    cycle: PulseCycle
    previous: PulseCycle | None
    columns: list[Column]
    rows: list[HeatRow]
    limits: anonymity.Thresholds


def band(value: float | None, kind: str) -> str | None:
    if value is None:
        return None
    for low, name, _ in ENPS_BANDS if kind == ENPS else MEAN_BANDS:
        if value >= low:
            return name
    return None


def _columns(items) -> list[Column]:
    columns = [
        Column(
            ENGAGEMENT,
            None,
            _l("Engagement"),
            _l("All the agree/disagree questions together: the engagement index, 1 to 5"),
            "mean",
        )
    ]
    number = 0
    has_enps = False
    for item in items:
        number += 1
        if item.kind == ItemKind.ENPS:
            has_enps = True
            continue
        columns.append(
            Column(item.id, number, THEMES.get(item.theme, item.theme), item_text(item), "mean")
        )
    if has_enps:
        columns.append(
            Column(
                ENPS,
                None,
                "eNPS",
                _l("Would you recommend working here? Employee Net Promoter Score, -100 to +100"),
                ENPS,
            )
        )
    return columns


def _value(scores: UnitScores | None, column: Column) -> float | None:
    if scores is None:
        return None
    if column.key == ENGAGEMENT:
        return scores.engagement
    if column.key == ENPS:
        return scores.enps
    for score in scores.items:
        if score.item.id == column.key:
            return score.mean
    return None  # fewer answers to this question than the floor


def _scores(released: dict, unit_id: int) -> UnitScores | None:
    result = released.get(unit_id)
    return None if result is None or result.suppressed else result.scores


def previous_cycle(cycle: PulseCycle, *, session: Session) -> PulseCycle | None:
    earlier = [
        c for c in closed_cycles(cycle.programme_id, session=session) if c.opens_at < cycle.opens_at
    ]
    return earlier[-1] if earlier else None


def build(*, session: Session, cycle: PulseCycle, unit_ids: set[int] | None) -> Heatmap:
    """Return the heatmap of a closed cycle for the units in `unit_ids` (None: every unit).

    The company (the top of the cycle's tree) is always included, as the comparison row.
    """
    limits = cycle_limits(cycle)
    previous = previous_cycle(cycle, session=session)
    ids = [cycle.id] + ([previous.id] if previous else [])
    rollups = rollup_rows(ids, session=session)
    rows = rollups[cycle.id]
    present = {r.unit_id: r for r in rows}
    tops = {r.unit_id for r in rows if r.parent_id is None}
    wanted = set(present) if unit_ids is None else (set(present) & set(unit_ids)) | tops
    now = released_results(session=session, cycle=cycle, unit_ids=wanted, comments=False, rows=rows)
    before = {}
    if previous is not None:
        before = released_results(
            session=session,
            cycle=previous,
            unit_ids=wanted,
            comments=False,
            rows=rollups[previous.id],
        )
    columns = _columns(cycle_items(cycle, session=session))
    units = {u.id: u for u in session.exec(select(OrgUnit)).all()}
    company = next(iter(sorted(tops)), None)
    company_scores = _scores(now, company) if company is not None else None

    out = []
    for unit_id in sorted(now, key=lambda u: tree_key(units[u], units)):
        unit, result = units[unit_id], now[unit_id]
        shown_above = [a for a in ancestor_ids(unit) if a in now]
        label = short_name(unit, units) if unit.parent_id in now else unit.name
        common = dict(unit=unit, label=label, depth=len(shown_above), is_company=unit_id == company)
        if result.suppressed:
            reason = anonymity.withheld_reason(present[unit_id].respondents, limits)
            out.append(HeatRow(**common, respondents=None, invited=None, hidden=reason))
            continue
        scores, earlier = result.scores, _scores(before, unit_id)
        cells = []
        for column in columns:
            value = _value(scores, column)
            if value is None:
                cells.append(HeatCell(hidden=anonymity.TOO_FEW))
                continue
            last = _value(earlier, column)
            theirs = None if unit_id == company else _value(company_scores, column)
            cells.append(
                HeatCell(
                    value=value,
                    band=band(value, column.kind),
                    change=None if last is None else value - last,
                    versus_company=None if theirs is None else value - theirs,
                )
            )
        out.append(
            HeatRow(
                **common,
                respondents=scores.respondents,
                invited=scores.invited,
                hidden=None,
                cells=cells,
            )
        )
    return Heatmap(cycle=cycle, previous=previous, columns=columns, rows=out, limits=limits)


MINUS = "\u2212"


def number(value: float, kind: str) -> str:
    """Format a cell's value in the reader's locale: a mean with two decimals, eNPS as a signed
    whole number."""
    if kind == ENPS:
        return f"{value:+.0f}".replace("-", MINUS)
    return locale_number(value, 2).replace("-", MINUS)


def signed(value: float, kind: str) -> str:
    """Format a difference with its sign; one that rounds to nothing reads "±0"."""
    text = f"{value:+.0f}" if kind == ENPS else f"{value:+.2f}"
    if float(text) == 0:
        return "\u00b10"
    if kind != ENPS:
        text = text[0] + locale_number(abs(value), 2)
    return text.replace("-", MINUS)


def legend(kind: str) -> list[tuple[float, str, str]]:
    """The colour bands of `kind` with their words in the reader's language: "4.00 or more",
    "3.50 to 3.99", "under 2.50" (eNPS: "+30 or more", "+10 to +29", ...)."""
    bands = ENPS_BANDS if kind == ENPS else MEAN_BANDS
    step = 1 if kind == ENPS else 0.01

    def show(value: float) -> str:
        return f"{value:+.0f}" if kind == ENPS else locale_number(value, 2)

    out = []
    for i, (low, name, _words) in enumerate(bands):
        if i == 0:
            words = gettext("%(low)s or more", low=show(low))
        elif low == float("-inf"):
            words = gettext("under %(high)s", high=show(bands[i - 1][0]))
        else:
            words = gettext("%(low)s to %(high)s", low=show(low), high=show(bands[i - 1][0] - step))
        out.append((low, name, words))
    return out


def arrow(value: float, kind: str) -> str:
    shown = signed(value, kind)
    if shown == "\u00b10":
        return "="
    return "\u25b2" if value > 0 else "\u25bc"


# Diverging stacked bars for the results page -------------------------------------------------

DISAGREE, NEUTRAL, AGREE = (1, 2), (3,), (4, 5)


@dataclass(frozen=True)
class Segment:
    value: int
    label: str
    count: int
    share: float  # of the item's answers, 0 to 1
    x: float  # left edge, 0 to 100 across the chart
    width: float  # 0 to 100 across the chart


@dataclass(frozen=True)
class Bar:
    score: ItemScore
    segments: list[Segment]
    agree: float
    neutral: float
    disagree: float


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    centre: float  # where "neither" is split, 0 to 100 across the chart


def diverging_bars(scores: list[ItemScore]) -> BarChart:
    """Lay out each Likert item's answers as a bar centred on the middle of "neither".

    Disagreement runs left of the centre line and agreement right, as in the products HR
    knows. The chart is scaled so the longest left and right arms fill it.
    """
    likert = [s for s in scores if s.item.kind != ItemKind.ENPS and s.n]
    shares = [{v: c / s.n for v, c in s.distribution} for s in likert]
    left = [sum(p.get(v, 0) for v in DISAGREE) + p.get(3, 0) / 2 for p in shares]
    right = [sum(p.get(v, 0) for v in AGREE) + p.get(3, 0) / 2 for p in shares]
    span = (max(left, default=0) + max(right, default=0)) or 1
    centre = max(left, default=0)
    bars = []
    for score, share, arm in zip(likert, shares, left, strict=True):
        x = (centre - arm) / span * 100
        segments = []
        for value, count in score.distribution:
            width = share.get(value, 0) / span * 100
            segments.append(
                Segment(value, LIKERT_LABELS[value], count, share.get(value, 0), x, width)
            )
            x += width
        bars.append(
            Bar(
                score,
                segments,
                agree=sum(share.get(v, 0) for v in AGREE),
                neutral=share.get(3, 0),
                disagree=sum(share.get(v, 0) for v in DISAGREE),
            )
        )
    return BarChart(bars, centre / span * 100)
