"""Metric definitions and the whole-batch check of customer-outcome rows.

Pure: imports neither Flask nor the database. Every bad row is reported with its line (CSV) or
index (JSON) and the column at fault, so a batch is either fully good or fully explained.
"""

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from trainer.csvfile import RowError
from trainer.util import DB_INT_MAX, N_, quarter_of
from trainer.util import translate as _

REQUIRED_COLUMNS = ["unit_code", "period", "metric", "value", "n"]
OPTIONAL_COLUMNS = ["topbox", "responses", "invited"]
VALUE_FIELDS = ("value", "n", "topbox", "responses", "invited")
FIRST_YEAR = 2000

HIGHER = "higher_is_better"
LOWER = "lower_is_better"
DIRECTIONS = {HIGHER: N_("Higher is better"), LOWER: N_("Lower is better")}


@dataclass(frozen=True)
class MetricDef:
    """A customer metric: its code in files, how to read it and which values are possible."""

    code: str
    label: str
    direction: str  # HIGHER or LOWER
    min_value: float | None
    max_value: float | None
    needs_n: bool  # n (the customer sample size) is required on every row
    description: str = ""
    custom: bool = False
    id: int | None = None  # the OutcomeMetric row of a custom metric

    @property
    def higher_is_better(self) -> bool:
        return self.direction == HIGHER

    def range_text(self) -> str:
        low, high = _number_text(self.min_value), _number_text(self.max_value)
        if low is not None and high is not None:
            return _("from %(low)s to %(high)s", low=low, high=high)
        if low is not None:
            return _("at least %(low)s", low=low)
        if high is not None:
            return _("at most %(high)s", high=high)
        return _("any number")

    def in_range(self, value: float) -> bool:
        return (self.min_value is None or value >= self.min_value) and (
            self.max_value is None or value <= self.max_value
        )


def _number_text(value: float | None) -> str | None:
    if value is None:
        return None
    return f"{value:g}"


BUILTIN_METRICS = (
    MetricDef(
        "csat",
        N_("CSAT (% satisfied)"),
        HIGHER,
        0,
        100,
        True,
        N_(
            "Percent of surveyed customers who were satisfied: answered 4 or 5 on a 1 to 5 "
            "scale (top-two box), from 0 to 100. Convert other scales before importing."
        ),
    ),
    MetricDef(
        "nps",
        "NPS",
        HIGHER,
        -100,
        100,
        True,
        N_(
            "Net Promoter Score: percent promoters (9 to 10) minus percent detractors "
            "(0 to 6), from -100 to 100."
        ),
    ),
    MetricDef(
        "csi",
        N_("Dealer CSI"),
        HIGHER,
        0,
        100,
        True,
        N_("The manufacturer's Customer Satisfaction Index for the dealer, from 0 to 100."),
    ),
    MetricDef(
        "complaints",
        N_("Complaints per 1,000 transactions"),
        LOWER,
        0,
        None,
        False,
        N_(
            "Complaints received per 1,000 transactions (sales, services or calls), 0 or "
            "more. n, if given, is the number of transactions."
        ),
    ),
    MetricDef(
        "retention",
        N_("Customer retention (%)"),
        HIGHER,
        0,
        100,
        False,
        N_(
            "Percent of customers who came back or renewed in the period, from 0 to 100. "
            "n, if given, is the number of customers in the base."
        ),
    ),
)
BUILTIN_CODES = frozenset(m.code for m in BUILTIN_METRICS)
METRIC_CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")

_QUARTER = re.compile(r"^(\d{4})\s*-?\s*Q([1-4])$", re.IGNORECASE)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


def parse_period(raw: str, *, today: date) -> str:
    """Return the quarter ('2026Q3') of a quarter or ISO date; raise ValueError with a reason."""
    text = raw.strip()
    if match := _QUARTER.match(text):
        period = f"{match[1]}Q{match[2]}"
    elif match := _ISO_DATE.match(text):
        try:
            period = quarter_of(date(int(match[1]), int(match[2]), int(match[3])))
        except ValueError:
            raise ValueError(_("'%(text)s' is not a real date.", text=text)) from None
    else:
        raise ValueError(
            _(
                "'%(text)s' is not a period. Use a quarter like 2026Q3 or a date like 2026-07-31.",
                text=text,
            )
        )
    current = quarter_of(today)
    if period > current:
        raise ValueError(
            _(
                "%(period)s is in the future; the latest quarter you can import is %(current)s.",
                period=period,
                current=current,
            )
        )
    if int(period[:4]) < FIRST_YEAR:
        raise ValueError(
            _("%(period)s is before %(year)d; check the year.", period=period, year=FIRST_YEAR)
        )
    return period


class _Bad(ValueError):
    """A cell that cannot be read; the message is for the user."""


def _blank(raw) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _number(raw, *, from_text: bool, decimal_comma: bool) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise _Bad(_("Send a number, not %(kind)s.", kind=_json_kind(raw)))
    if isinstance(raw, str):
        if not from_text:
            raise _Bad(_("Send a JSON number, not the text '%(text)s'.", text=raw))
        text = raw.strip()
        if decimal_comma and _DECIMAL_COMMA.match(text):
            text = text.replace(",", ".")
        try:
            value = float(text)
        except ValueError:
            message = _("'%(text)s' is not a number.", text=text)
            if "," in text:
                message += " " + _("Use a dot as the decimal separator.")
            raise _Bad(message) from None
    else:
        try:
            value = float(raw)
        except OverflowError:  # a JSON integer of hundreds of digits
            raise _Bad(_("This number is too large.")) from None
    if not math.isfinite(value):
        raise _Bad(_("'%(text)s' is not a finite number.", text=raw))
    return value


def _count(raw, *, from_text: bool) -> int:
    shown = raw.strip() if isinstance(raw, str) else raw

    def not_whole() -> _Bad:  # worded only when needed: most cells are fine
        return _Bad(
            _(
                "'%(text)s' is not a whole number of 0 or more (write 1200, without separators).",
                text=shown,
            )
        )

    try:
        value = _number(raw, from_text=from_text, decimal_comma=False)
    except _Bad:
        if from_text and isinstance(raw, str):
            raise not_whole() from None
        raise
    if value != int(value) or value < 0:
        raise not_whole()
    if value > DB_INT_MAX:
        raise _Bad(
            _("'%(text)s' is too large; the most is %(max)s.", text=shown, max=f"{DB_INT_MAX:,}")
        )
    return int(value)


def _text(raw) -> str:
    if not isinstance(raw, str):
        raise _Bad(_("Send text (a JSON string), not %(kind)s.", kind=_json_kind(raw)))
    return raw.strip()


def _json_kind(raw) -> str:
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "true or false"
    if isinstance(raw, int | float):
        return "a number"
    return "a list or object" if isinstance(raw, list | dict) else "this value"


def check_rows(
    rows: Iterable[tuple[int, Mapping[str, object]]],
    *,
    units: Mapping[str, int],
    metrics: Mapping[str, MetricDef],
    today: date,
    from_text: bool = True,
    decimal_comma: bool = False,
    ref_name: str = "line",
) -> tuple[list[dict], list[RowError]]:
    """Check every row and return (clean rows, errors); clean rows are only complete when
    there are no errors.

    ``rows`` are (line or index, mapping) pairs. CSV cells are text (``from_text``); JSON values
    keep their types, so numbers must be JSON numbers. A clean row is a dict with ``unit_id``,
    ``unit_code``, ``period``, ``metric``, ``value``, ``n`` and whichever of ``topbox``,
    ``responses`` and ``invited`` the row carries (an absent field keeps the stored value).
    """
    lowered_units = {code.lower(): code for code in units}
    clean, errors = [], []
    seen: dict[tuple[int, str, str], int] = {}
    for ref, row in rows:
        row_errors: list[RowError] = []

        def bad(column, message, ref=ref, row_errors=row_errors):
            row_errors.append(RowError(ref, column, message))

        unit_id = period = metric = None
        try:
            code = _text(row["unit_code"])
            unit_id = units.get(code)
            if unit_id is None:
                near = lowered_units.get(code.lower())
                message = _("No unit has the code '%(code)s'.", code=code)
                if near:
                    message += " " + _("Did you mean '%(code)s'?", code=near)
                bad("unit_code", message if code else _("The unit code is empty."))
        except _Bad as exc:
            bad("unit_code", str(exc))
        try:
            period = parse_period(_text(row["period"]), today=today)
        except ValueError as exc:
            bad("period", str(exc))
        try:
            metric_code = _text(row["metric"]).lower()
            metric = metrics.get(metric_code)
            if metric is None:
                bad(
                    "metric",
                    _(
                        "Unknown metric '%(code)s'. Metrics are: %(metrics)s. "
                        "HR can define custom metrics.",
                        code=metric_code,
                        metrics=", ".join(metrics),
                    ),
                )
        except _Bad as exc:
            bad("metric", str(exc))

        values: dict[str, float | int | None] = {}
        if _blank(row["value"]):
            bad("value", _("The value is empty."))
        else:
            try:
                values["value"] = _number(
                    row["value"], from_text=from_text, decimal_comma=decimal_comma
                )
            except _Bad as exc:
                bad("value", str(exc))
        if metric is not None and "value" in values and not metric.in_range(values["value"]):
            bad(
                "value",
                _(
                    "%(value)s is out of range: %(metric)s values are %(range)s.",
                    value=f"{values['value']:g}",
                    metric=metric.code,
                    range=metric.range_text(),
                ),
            )
        for name in ("n", "responses", "invited"):
            if name not in row:
                continue
            if _blank(row[name]):
                values[name] = None
                continue
            try:
                values[name] = _count(row[name], from_text=from_text)
            except _Bad as exc:
                bad(name, str(exc))
        if metric is not None and metric.needs_n and "n" in row and _blank(row["n"]):
            bad(
                "n",
                _(
                    "n is required for %(metric)s: the number of customers behind the value.",
                    metric=metric.code,
                ),
            )
        if "topbox" in row:
            if _blank(row["topbox"]):
                values["topbox"] = None
            else:
                try:
                    share = _number(row["topbox"], from_text=from_text, decimal_comma=decimal_comma)
                    if not 0 <= share <= 1:
                        raise _Bad(
                            _(
                                "%(value)s is not a share between 0 and 1 (write 0.42 for 42%%).",
                                value=f"{share:g}",
                            )
                        )
                    values["topbox"] = share
                except _Bad as exc:
                    bad("topbox", str(exc))
        responses, invited = values.get("responses"), values.get("invited")
        if responses is not None and invited is not None and responses > invited:
            bad(
                "responses",
                _(
                    "%(responses)d responses is more than the %(invited)d invited.",
                    responses=responses,
                    invited=invited,
                ),
            )

        if unit_id is not None and period is not None and metric is not None:
            key = (unit_id, period, metric.code)
            if key in seen:
                bad(
                    "period",
                    _(
                        "%(code)s %(period)s %(metric)s already appears on %(where)s %(ref)s. "
                        "Each unit has one value per metric and quarter (dates in one quarter "
                        "count as that quarter): combine them into one row.",
                        code=code,
                        period=period,
                        metric=metric.code,
                        where={"line": _("line"), "row": _("row")}.get(ref_name, ref_name),
                        ref=seen[key],
                    ),
                )
            else:
                seen[key] = ref
        if row_errors:
            errors.extend(row_errors)
        else:
            clean.append(
                {
                    "unit_id": unit_id,
                    "unit_code": code,
                    "period": period,
                    "metric": metric.code,
                    **values,
                }
            )
    return clean, errors


def check_json_rows(
    rows: list, *, units: Mapping[str, int], metrics: Mapping[str, MetricDef], today: date
) -> tuple[list[dict], list[RowError]]:
    """Check API rows (0-based indexes): each an object with the five required fields."""
    errors, shaped = [], []
    allowed = [*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS]
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            errors.append(RowError(index, None, _("Each row must be a JSON object.")))
            continue
        problems = [
            RowError(index, name, _("This field is missing."))
            for name in REQUIRED_COLUMNS
            if name not in row
        ]
        problems += [
            RowError(
                index,
                str(name),
                _("Unknown field. Expected: %(fields)s.", fields=", ".join(allowed)),
            )
            for name in row
            if name not in allowed
        ]
        if problems:
            errors.extend(problems)
        else:
            shaped.append((index, row))
    clean, row_errors = check_rows(
        shaped, units=units, metrics=metrics, today=today, from_text=False, ref_name="row"
    )
    errors.extend(row_errors)
    errors.sort(key=lambda e: e.line)
    return clean, errors


# The built-in measures' names and descriptions, as people read them (HR's own measures are
# shown as HR wrote them).
BUILTIN_TEXTS = frozenset(
    text for m in BUILTIN_METRICS for text in (m.label, m.description) if text
)


def metric_name(text: str | None) -> str | None:
    """A measure's name or description in the reader's language (built-in ones only)."""
    return _(text) if text in BUILTIN_TEXTS else text
