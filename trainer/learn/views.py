from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select

from trainer.access import allow
from trainer.auth.models import User
from trainer.db import db_session
from trainer.forms import ConfirmForm, int_arg, period_arg
from trainer.learn import bp
from trainer.learn.assignments import assignments_in_scope, create_assignment, offered_courses
from trainer.learn.assignments import delete_assignment as withdraw_assignment
from trainer.learn.certificates import EXPIRY_REMINDER_DAYS, certificate_counts, unit_certificates
from trainer.learn.forms import AssignmentForm, QuizForm
from trainer.learn.models import Assignment, Course, CourseVersion, QuizAttempt
from trainer.learn.progress import (
    complete_lesson,
    due_dates_for,
    has_quiz,
    lesson_html,
    my_learning,
    next_course,
    progress_steps,
    start_course,
)
from trainer.learn.quizzes import (
    attempt_feedback,
    option_orders,
    questions_of,
    quiz_items,
    quiz_seed,
    read_response,
    submit_quiz,
)
from trainer.learn.reports import (
    item_analysis,
    reportable_periods,
    unit_dues,
    unit_summaries,
    versions_with_attempts,
)
from trainer.learn.services import (
    LearnError,
    certificate_by_code,
    certificate_for,
    course_by_slug,
    enrolment_for,
    version_for,
)
from trainer.learn.variants import localized
from trainer.org.models import OrgUnit
from trainer.org.scope import (
    managed_scope,
    require_unit_in_scope,
    scope_unit_ids,
    sees_everything,
    unit_choices,
)
from trainer.util import quarter_of, utcnow


def _course_or_404(session, slug) -> tuple[Course, object, CourseVersion]:
    """Load a course with the learner's enrolment and version; retired ones only if started.

    The version is in the learner's language when the course has a variant in it."""
    course = course_by_slug(session=session, slug=slug) or abort(404)
    enrolment = enrolment_for(session=session, user=current_user, course=course)
    if course.retired and enrolment is None:
        abort(404)
    version = version_for(session=session, course=course, enrolment=enrolment) or abort(404)
    return course, enrolment, localized(version, str(get_locale()))


@bp.route("/")
@allow()
def index():
    learning = my_learning(session=db_session(), user=current_user, language=str(get_locale()))
    return render_template("learn/index.html", learning=learning, today=utcnow().date())


@bp.route("/courses/<course_slug>")
@allow()
def course(course_slug):
    session = db_session()
    course, enrolment, version = _course_or_404(session, course_slug)
    certificate = (
        certificate_for(session=session, user=current_user, course=course)
        if enrolment and enrolment.completed_at
        else None
    )
    return render_template(
        "learn/course.html",
        course=course,
        enrolment=enrolment,
        version=version,
        certificate=certificate,
        form=ConfirmForm(),
        steps=progress_steps(version, enrolment),
        due_on=due_dates_for(session=session, user=current_user).get(course.id),
        has_quiz=has_quiz(version),
        today=utcnow().date(),
        renew_window=timedelta(days=EXPIRY_REMINDER_DAYS[0]),
    )


@bp.route("/courses/<course_slug>/start", methods=["POST"])
@allow()
def start(course_slug):
    session = db_session()
    course, enrolment, _version = _course_or_404(session, course_slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        enrolment = start_course(session=session, user=current_user, course=course)
    except LearnError as exc:
        flash(str(exc))
        return redirect(url_for("learn.index"))
    return redirect(
        url_for("learn.lesson", course_slug=course.slug, lesson_no=enrolment.last_lesson)
    )


@bp.route("/courses/<course_slug>/lessons/<int:lesson_no>")
@allow()
def lesson(course_slug, lesson_no):
    session = db_session()
    course, enrolment, version = _course_or_404(session, course_slug)
    if not 1 <= lesson_no <= len(version.lessons):
        abort(404)
    return render_template(
        "learn/lesson.html",
        course=course,
        enrolment=enrolment,
        version=version,
        lesson_no=lesson_no,
        lesson=version.lessons[lesson_no - 1],
        lesson_html=lesson_html(version, lesson_no),
        form=ConfirmForm(),
        steps=progress_steps(version, enrolment),
        has_quiz=has_quiz(version),
    )


@bp.route("/courses/<course_slug>/lessons/<int:lesson_no>/done", methods=["POST"])
@allow()
def lesson_done(course_slug, lesson_no):
    session = db_session()
    course, enrolment, version = _course_or_404(session, course_slug)
    if not 1 <= lesson_no <= len(version.lessons):
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if enrolment is None:
        try:
            enrolment = start_course(session=session, user=current_user, course=course)
        except LearnError:
            abort(404)
        version = version_for(session=session, course=course, enrolment=enrolment)
    complete_lesson(
        session=session,
        enrolment=enrolment,
        version=version,
        lesson_no=min(lesson_no, len(version.lessons)),
    )
    if lesson_no < len(version.lessons):
        return redirect(url_for("learn.lesson", course_slug=course.slug, lesson_no=lesson_no + 1))
    if has_quiz(version):
        return redirect(url_for("learn.quiz", course_slug=course.slug))
    flash(_("You have completed this course."))
    return redirect(url_for("learn.course", course_slug=course.slug))


@bp.route("/courses/<course_slug>/quiz", methods=["GET", "POST"])
@allow()
def quiz(course_slug):
    session = db_session()
    course, enrolment, version = _course_or_404(session, course_slug)
    if not has_quiz(version):
        abort(404)
    questions = questions_of(version)
    attempt_no = (enrolment.attempts if enrolment else 0) + 1
    seed = quiz_seed(current_app.config["SECRET_KEY"], current_user.id, version.id, attempt_no)
    orders = option_orders(questions, seed)
    form = QuizForm(version_id=str(version.id))
    errors, notice = {}, None
    if form.validate_on_submit():
        if form.version_id.data != str(version.id):
            notice = _("This quiz changed while you were answering it. Please answer again.")
        else:
            responses = {}
            for i, question in enumerate(questions):
                if question.scorable:
                    responses[i], error = read_response(
                        question, i, orders.get(i), request.form.getlist
                    )
                    if error:
                        errors[i] = error
            if not errors:
                enrolment = enrolment or start_course(
                    session=session, user=current_user, course=course
                )
                attempt = submit_quiz(
                    session=session,
                    user=current_user,
                    enrolment=enrolment,
                    version=version,
                    responses=responses,
                    option_seed=seed,
                )
                return redirect(url_for("learn.attempt", attempt_id=attempt.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "learn/quiz.html",
        course=course,
        version=version,
        enrolment=enrolment,
        form=form,
        errors=errors,
        notice=notice,
        items=quiz_items(questions, orders),
        posted=request.form if request.method == "POST" else None,
    ), status


@bp.route("/attempts/<int:attempt_id>")
@allow()
def attempt(attempt_id):
    session = db_session()
    attempt = session.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.user_id != current_user.id:
        abort(404)
    version = localized(session.get(CourseVersion, attempt.version_id), str(get_locale()))
    course = session.get(Course, version.course_id)
    enrolment = enrolment_for(session=session, user=current_user, course=course)
    return render_template(
        "learn/attempt.html",
        attempt=attempt,
        version=version,
        course=course,
        enrolment=enrolment,
        feedback=attempt_feedback(version, attempt),
        certificate=certificate_for(session=session, user=current_user, course=course),
    )


def _may_see_certificate(session, certificate) -> bool:
    if certificate.user_id == current_user.id or sees_everything(current_user):
        return True
    if not current_user.has_role("manager"):
        return False
    owner = session.get(User, certificate.user_id)
    return owner.unit_id in managed_scope(session=session, user=current_user)


@bp.route("/certificates/<cert_code>")
@allow()
def certificate(cert_code):
    session = db_session()
    certificate = certificate_by_code(session=session, code=cert_code)
    if certificate is None or not _may_see_certificate(session, certificate):
        abort(404)
    own = certificate.user_id == current_user.id
    return render_template(
        "learn/certificate.html",
        certificate=certificate,
        today=utcnow().date(),
        owner=session.get(User, certificate.user_id),
        next_card=next_course(session=session, user=current_user, language=str(get_locale()))
        if own
        else None,
        version=localized(session.get(CourseVersion, certificate.version_id), str(get_locale())),
    )


@bp.route("/verify")
@allow()
def verify():
    session = db_session()
    code = request.args.get("code", "").strip()[:40]
    certificate = certificate_by_code(session=session, code=code) if code else None
    return render_template(
        "learn/verify.html",
        code=code,
        certificate=certificate,
        today=utcnow().date(),
        owner=certificate and session.get(User, certificate.user_id),
        version=certificate and session.get(CourseVersion, certificate.version_id),
    )


# ----------------------------------------------------------------- managers and HR


def _period_arg(session, today) -> tuple[str, list[str]]:
    periods = reportable_periods(session=session, today=today)
    return period_arg(periods, default=quarter_of(today)), periods


@bp.route("/reports")
@allow("manager", "hr", "admin")
def reports():
    session = db_session()
    today = utcnow().date()
    period, periods = _period_arg(session, today)
    scope = scope_unit_ids(session=session, user=current_user)
    summaries = unit_summaries(session=session, scope=scope, period=period, today=today)
    certificates = certificate_counts(session=session, scope=scope, today=today)
    return render_template(
        "learn/reports.html",
        summaries=summaries,
        period=period,
        periods=periods,
        sees_all=scope is None,
        certificates=certificates,
        any_expiring=any(c.total for c in certificates),
    )


@bp.route("/reports/units/<int:unit_id>")
@allow("manager", "hr", "admin")
def unit_report(unit_id):
    session = db_session()
    unit = session.get(OrgUnit, unit_id) or abort(404)
    require_unit_in_scope(session=session, user=current_user, unit_id=unit.id)
    today = utcnow().date()
    period, periods = _period_arg(session, today)
    rows, statuses = unit_dues(session=session, unit=unit, period=period, today=today)
    return render_template(
        "learn/unit_report.html",
        unit=unit,
        rows=rows,
        statuses=statuses,
        total=sum(statuses.values()),
        period=period,
        periods=periods,
        certificates=unit_certificates(session=session, unit=unit, today=today),
    )


@bp.route("/assignments", methods=["GET", "POST"])
@allow("manager", "hr", "admin")
def assignments():
    session = db_session()
    scope = scope_unit_ids(session=session, user=current_user)
    form = AssignmentForm()
    form.course_id.choices = [(c.id, v.title) for c, v in offered_courses(session=session)]
    form.unit_id.choices = unit_choices(session=session, scope=scope)
    if form.validate_on_submit():
        course = session.get(Course, form.course_id.data)
        unit = session.get(OrgUnit, form.unit_id.data)
        try:
            create_assignment(
                session=session,
                course=course,
                unit=unit,
                due_on=form.due_on.data,
                assigned_by=current_user,
            )
        except LearnError as exc:
            form.course_id.errors.append(str(exc))
        else:
            flash(_("Course assigned to %(unit)s and everyone below it.", unit=unit.name))
            return redirect(url_for("learn.assignments"))
    rows = assignments_in_scope(session=session, scope=scope)
    return render_template(
        "learn/assignments.html",
        form=form,
        rows=rows,
        delete_form=ConfirmForm(),
        today=utcnow().date(),
    ), (400 if form.errors else 200)


@bp.route("/assignments/<int:assignment_id>/delete", methods=["POST"])
@allow("manager", "hr", "admin")
def delete_assignment(assignment_id):
    session = db_session()
    assignment = session.get(Assignment, assignment_id) or abort(404)
    require_unit_in_scope(session=session, user=current_user, unit_id=assignment.unit_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    withdraw_assignment(session=session, assignment=assignment)
    flash(_("Assignment withdrawn. Nobody's progress was changed."))
    return redirect(url_for("learn.assignments"))


@bp.route("/analysis")
@allow("hr", "admin")
def analysis_index():
    session = db_session()
    courses = session.exec(
        select(Course, CourseVersion).join(
            CourseVersion, CourseVersion.id == Course.current_version_id
        )
    ).all()
    return render_template(
        "learn/analysis_index.html", courses=sorted(courses, key=lambda r: r[1].title.lower())
    )


@bp.route("/analysis/<course_slug>")
@allow("hr", "admin")
def analysis(course_slug):
    session = db_session()
    course = course_by_slug(session=session, slug=course_slug) or abort(404)
    versions = versions_with_attempts(session=session, course=course)
    chosen = int_arg("version")
    version = (
        next((v for v in versions if v.id == chosen), None)
        or next((v for v in versions if v.id == course.current_version_id), None)
        or abort(404)
    )
    return render_template(
        "learn/analysis.html",
        course=course,
        version=version,
        versions=versions,
        rows=item_analysis(session=session, version=version),
    )
