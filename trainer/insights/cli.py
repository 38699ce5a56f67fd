"""`flask insights report`: the statistics for scripts and scheduled reports."""

import json

import click
from flask import current_app
from flask.cli import AppGroup

from trainer.db import db_session
from trainer.insights import reports, scope, store
from trainer.insights.sources import Status

insights_cli = AppGroup("insights", help="Relate team morale to customer outcomes.")


def _number(value, digits=2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _p(name: str, value) -> str:
    """A p- or q-value with its name: below 0.001 it reads "q < 0.001", never "q = 0.000"."""
    if value is not None and value < 0.001:
        return f"{name} < 0.001"
    return f"{name} = {_number(value, 3)}"


def text_report(doc: dict) -> str:
    """Return the report as plain text for people reading a terminal or an email."""
    headline = doc["headline"]
    lines = [
        f"{doc['metric_label']} and morale: {doc['scope']['name']} "
        f"({doc['scope']['code']}), {len(doc['periods'])} quarters",
        "Correlation, not causation.",
        "",
        headline["sentence"],
        "",
    ]
    if doc["reference"] and headline["status"] != Status.OK:
        lines += ["Company-wide: " + doc["reference"]["headline"]["sentence"], ""]
    lines.append("Within-team lead/lag profile (exploratory; q = Benjamini-Hochberg):")
    for row in doc["lags"]:
        if row["status"] == Status.OK:
            detail = (
                f"r = {_number(row['within_r'])} [{_number(row['ci_low'])}, "
                f"{_number(row['ci_high'])}], n = {row['n']}, {_p('q', row['q_value'])}"
            )
        else:
            detail = f"insufficient data (n = {row['n']}): {row['reason']}"
        lines.append(f"  lag {row['lag']} {row['direction']:<14} {detail}")
    for row in doc["between"]:
        detail = (
            f"r = {_number(row['r'])} [{_number(row['ci_low'])}, {_number(row['ci_high'])}]"
            if row["status"] == Status.OK
            else f"insufficient data: {row['reason']}"
        )
        lines.append(f"Between teams ({row['method']}), n = {row['n']}: {detail}")
    flags = doc["flags"] or []
    lines += ["", f"Data-quality (gaming) flags: {len(flags)}"]
    lines += [f"  {f['unit_code']} {f['period']} {f['signal']}: {f['reason']}" for f in flags]
    lines += ["", "Hidden to protect anonymity: " + (", ".join(doc["suppressed"]) or "none")]
    return "\n".join(lines)


@insights_cli.command("report")
@click.option("--metric", required=True, help="A customer metric code, e.g. csi or csat.")
@click.option(
    "--unit",
    "unit_code",
    default=None,
    help="Limit the report to this unit's subtree (default: the whole company).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report (see README).")
def report_command(metric, unit_code, as_json):
    """Print the morale-versus-METRIC statistics, with gaming flags and suppressed units."""
    session = db_session()
    try:
        doc = _report(session, metric.strip().lower(), unit_code)
    finally:
        session.rollback()  # read only: end the transaction (and its SQLite lock) now
    click.echo(json.dumps(doc, indent=2, ensure_ascii=False) if as_json else text_report(doc))


def _report(session, metric: str, unit_code: str | None) -> dict:
    codes = store.metric_codes(session=session)
    if metric not in codes:
        raise click.BadParameter(
            f"unknown metric '{metric}'. Choose one of: " + ", ".join(codes) + ".",
            param_hint="--metric",
        )
    if unit_code:
        unit = scope.unit_by_code(session=session, code=unit_code.strip())
        if unit is None:
            raise click.BadParameter(f"no unit has the code '{unit_code}'.", param_hint="--unit")
    else:
        unit = scope.company_root(session=session)
        if unit is None:
            raise click.UsageError("There are no org units yet; load people or the demo first.")
    level = current_app.config["INSIGHTS_LEVEL"]
    return reports.report(session=session, metric=metric, unit=unit, with_flags=True, level=level)
