from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from trainer import audit, csvdownload
from trainer.access import allow
from trainer.db import db_session
from trainer.forms import ConfirmForm, int_arg, period_arg
from trainer.org.scope import unit_choices
from trainer.org.services import ordered_tree
from trainer.outcomes import bp, imports, queries
from trainer.outcomes import metrics as outcome_metrics
from trainer.outcomes import tokens as api_tokens
from trainer.outcomes.forms import ImportOutcomesForm, MetricEditForm, MetricForm, TokenForm
from trainer.outcomes.models import ApiToken, OutcomeError, OutcomeMetric
from trainer.outcomes.validation import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from trainer.util import utcnow

PAGE_SIZE = 50


def _filters(session):
    """Read the unit, metric and period filters from the query string; return (filter, notes)."""
    notes = []
    unit_code = request.args.get("unit", "").strip()
    unit_ids = queries.unit_subtree(session=session, code=unit_code) if unit_code else None
    if unit_code and unit_ids is None:
        notes.append(_("No unit has the code '%(code)s'; showing every unit.", code=unit_code))
    metric = request.args.get("metric", "").strip().lower() or None
    period = period_arg()
    if period:
        try:
            period = queries.check_period(period)
        except ValueError as exc:
            notes.append(_("%(problem)s Showing every period.", problem=exc))
            period = None
    return queries.OutcomeFilter(unit_ids, metric, period), notes


@bp.route("/")
@allow("hr", "admin")
def browse():
    session = db_session()
    where, notes = _filters(session)
    page = int_arg("page", 1)
    rows, total = queries.find_outcomes(
        session=session, where=where, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render_template(
        "outcomes/browse.html",
        rows=rows,
        total=total,
        page=page,
        notes=notes,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        args=request.args,
        units=[(u, depth) for u, depth, _ in ordered_tree(session=session)],
        metrics=outcome_metrics.metric_map(session=session),
        periods=queries.outcome_periods(session=session),
        imports=queries.recent_imports(session=session),
    )


@bp.route("/export.csv")
@allow("hr", "admin")
def export():
    session = db_session()
    where, _notes = _filters(session)
    rows, _total = queries.find_outcomes(session=session, where=where)
    return csvdownload.download("outcomes.csv", queries.export_rows(rows))


@bp.route("/import", methods=["GET", "POST"])
@allow("hr", "admin")
def import_outcomes():
    session = db_session()
    form = ImportOutcomesForm()
    report = None
    if form.validate_on_submit():
        report = imports.import_csv(
            session=session,
            data=form.file.data.read(),
            channel="upload",
            actor=current_user.identifier,
            dry_run=form.dry_run.data,
        )
        if report.ok and not report.dry_run:
            audit.record(current_user, "outcomes.import", None, report.counts(), session=session)
            flash(_("Import done. %(summary)s", summary=report.summary()))
            return redirect(url_for("outcomes.browse"))
    status = 400 if form.errors or (report and not report.ok) else 200
    return render_template(
        "outcomes/import.html",
        form=form,
        report=report,
        columns=REQUIRED_COLUMNS,
        optional=OPTIONAL_COLUMNS,
        metrics=outcome_metrics.metrics(session=session),
        max_rows=imports.MAX_ROWS,
    ), status


def _metric_values(form) -> dict:
    return {
        "label": form.label.data,
        "direction": form.direction.data,
        "min_value": form.min_value.data,
        "max_value": form.max_value.data,
        "needs_n": form.needs_n.data,
        "description": form.description.data or "",
    }


@bp.route("/metrics", methods=["GET", "POST"])
@allow("hr", "admin")
def metrics():
    session = db_session()
    form = MetricForm()
    if form.validate_on_submit():
        try:
            metric = outcome_metrics.create_metric(
                session=session, code=form.code.data, **_metric_values(form)
            )
        except OutcomeError as exc:
            form.code.errors.append(str(exc))
        else:
            flash(_("Metric %(code)s added.", code=metric.code))
            return redirect(url_for("outcomes.metrics"))
    return render_template(
        "outcomes/metrics.html", form=form, metrics=outcome_metrics.metrics(session=session)
    ), (400 if form.errors else 200)


@bp.route("/metrics/<int:metric_id>", methods=["GET", "POST"])
@allow("hr", "admin")
def metric(metric_id):
    session = db_session()
    metric = session.get(OutcomeMetric, metric_id) or abort(404)
    form = MetricEditForm(obj=metric)
    if form.validate_on_submit():
        try:
            outcome_metrics.update_metric(session=session, metric=metric, **_metric_values(form))
        except OutcomeError as exc:
            form.min_value.errors.append(str(exc))
        else:
            flash(_("Metric %(code)s saved.", code=metric.code))
            return redirect(url_for("outcomes.metrics"))
    return render_template(
        "outcomes/metric.html", form=form, metric=metric, delete=ConfirmForm()
    ), 400 if form.errors else 200


@bp.route("/metrics/<int:metric_id>/delete", methods=["POST"])
@allow("hr", "admin")
def delete_metric(metric_id):
    session = db_session()
    metric = session.get(OutcomeMetric, metric_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            outcome_metrics.delete_metric(session=session, metric=metric)
        except OutcomeError as exc:
            flash(str(exc))
            return redirect(url_for("outcomes.metric", metric_id=metric.id))
        flash(_("Metric %(code)s deleted.", code=metric.code))
    return redirect(url_for("outcomes.metrics"))


@bp.route("/tokens", methods=["GET", "POST"])
@allow("hr", "admin")
def tokens():
    session = db_session()
    form = TokenForm()
    form.unit_id.choices = unit_choices(session=session, blank=_("(every unit)"))
    if form.validate_on_submit():
        try:
            token, secret = api_tokens.create_token(
                session=session,
                name=form.name.data,
                scopes=form.scopes.data,
                created_by=current_user,
                unit_id=form.unit_id.data or None,
                expires_in_days=form.expires_in_days.data or None,
            )
        except OutcomeError as exc:
            form.name.errors.append(str(exc))
        else:
            audit.record(
                current_user,
                "token.create",
                token,
                {
                    "scopes": token.scopes.split(","),
                    "unit": token.unit_id,
                    "expires_at": token.expires_at and token.expires_at.isoformat(),
                },
                session=session,
            )
            return render_template("outcomes/token_created.html", token=token, secret=secret)
    return render_template(
        "outcomes/tokens.html",
        form=form,
        revoke=ConfirmForm(),
        tokens=api_tokens.list_tokens(session=session),
        now=utcnow(),
        state=api_tokens.token_state,
    ), 400 if form.errors else 200


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@allow("hr", "admin")
def revoke_token(token_id):
    session = db_session()
    token = session.get(ApiToken, token_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        api_tokens.revoke_token(session=session, token=token)
        audit.record(current_user, "token.revoke", token, session=session)
        flash(
            _(
                "Token %(name)s revoked. Systems using it can no longer send data.",
                name=token.name,
            )
        )
    return redirect(url_for("outcomes.tokens"))


@bp.app_template_filter("plain_number")
def plain_number(value: float) -> str:
    """A value as imported (up to 6 significant decimals, no trailing zeros), in the reader's
    locale: 87.5 reads 87,5 in German."""
    return format_decimal(value, format="#,##0.######")
