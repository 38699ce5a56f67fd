"""The customer metrics: the built-in ones and HR's custom ones, and defining, changing and
deleting a custom metric."""

from flask_babel import gettext as _
from sqlmodel import Session, func, select

from trainer.outcomes.models import Outcome, OutcomeError, OutcomeMetric
from trainer.outcomes.validation import (
    BUILTIN_CODES,
    BUILTIN_METRICS,
    DIRECTIONS,
    METRIC_CODE,
    MetricDef,
)


def metrics(*, session: Session) -> list[MetricDef]:
    """Return every metric definition: the built-ins, then HR's custom metrics by code."""
    custom = session.exec(select(OutcomeMetric).order_by(OutcomeMetric.code)).all()
    return [*BUILTIN_METRICS, *(_metric_def(m) for m in custom)]


def metric_map(*, session: Session) -> dict[str, MetricDef]:
    return {m.code: m for m in metrics(session=session)}


def _metric_def(metric: OutcomeMetric) -> MetricDef:
    return MetricDef(
        metric.code,
        metric.label,
        metric.direction,
        metric.min_value,
        metric.max_value,
        metric.needs_n,
        metric.description,
        custom=True,
        id=metric.id,
    )


def _check_metric_fields(label, direction, min_value, max_value):
    if not label.strip():
        raise OutcomeError(_("Give the metric a label."))
    if direction not in DIRECTIONS:
        raise OutcomeError(_("Choose whether higher or lower values are better."))
    for bound in (min_value, max_value):
        if bound is not None and not float("-inf") < bound < float("inf"):
            raise OutcomeError(_("The range limits must be ordinary numbers."))
    if min_value is not None and max_value is not None and min_value >= max_value:
        raise OutcomeError(_("The lowest value must be below the highest value."))


def create_metric(
    *,
    session: Session,
    code: str,
    label: str,
    direction: str,
    min_value: float | None,
    max_value: float | None,
    needs_n: bool,
    description: str = "",
) -> OutcomeMetric:
    """Define a custom metric; its code is then accepted in imports."""
    code = code.strip().lower()
    if not METRIC_CODE.match(code):
        raise OutcomeError(
            _("Codes are 2 to 32 lowercase letters, digits or '_', starting with a letter.")
        )
    if (
        code in BUILTIN_CODES
        or session.exec(select(OutcomeMetric).where(OutcomeMetric.code == code)).first()
    ):
        raise OutcomeError(_("The metric code %(code)s is already used.", code=code))
    _check_metric_fields(label, direction, min_value, max_value)
    metric = OutcomeMetric(
        code=code,
        label=label.strip(),
        direction=direction,
        min_value=min_value,
        max_value=max_value,
        needs_n=needs_n,
        description=description.strip(),
    )
    session.add(metric)
    session.flush()
    return metric


def update_metric(
    *,
    session: Session,
    metric: OutcomeMetric,
    label: str,
    direction: str,
    min_value: float | None,
    max_value: float | None,
    needs_n: bool,
    description: str = "",
) -> None:
    """Change a custom metric; refuse a range that would exclude values already stored."""
    _check_metric_fields(label, direction, min_value, max_value)
    low, high, count = session.exec(
        select(func.min(Outcome.value), func.max(Outcome.value), func.count()).where(
            Outcome.metric == metric.code
        )
    ).one()
    if count and (
        (min_value is not None and low < min_value) or (max_value is not None and high > max_value)
    ):
        raise OutcomeError(
            _(
                "Stored %(metric)s values run from %(low)s to %(high)s; choose a range that "
                "includes them.",
                metric=metric.code,
                low=f"{low:g}",
                high=f"{high:g}",
            )
        )
    metric.label, metric.direction = label.strip(), direction
    metric.min_value, metric.max_value = min_value, max_value
    metric.needs_n, metric.description = needs_n, description.strip()
    session.add(metric)


def delete_metric(*, session: Session, metric: OutcomeMetric) -> None:
    """Delete a custom metric that has no stored values."""
    used = session.exec(select(func.count()).where(Outcome.metric == metric.code)).one()
    if used:
        raise OutcomeError(
            _(
                "%(num)d stored values use %(metric)s; it cannot be deleted.",
                num=used,
                metric=metric.code,
            )
        )
    session.delete(metric)
