"""Customer-care courses: catalogue, lessons, quizzes, certificates, assignments and reports."""

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

bp = Blueprint("learn", __name__, url_prefix="/learn")


def init_app(app: Flask) -> None:
    from trainer import content
    from trainer.demo import add_demo_step
    from trainer.learn import home, views  # noqa: F401
    from trainer.learn.assignments import send_overdue_reminders
    from trainer.learn.certificates import send_recertification_notices
    from trainer.learn.models import CertificateState, CourseStatus
    from trainer.learn.sync import check_courses, lint_courses, sync_courses
    from trainer.nav import add_home_panel, add_nav
    from trainer.scheduler import register_job

    app.register_blueprint(bp)
    app.add_template_global(CourseStatus, "CourseStatus")
    app.add_template_global(CertificateState, "CertificateState")
    content.register_content_kind(app, "courses", check_courses, sync_courses, lint=lint_courses)
    add_nav(app, _l("Learning"), "learn.index", order=20)
    add_nav(
        app, _l("Training reports"), "learn.reports", roles=("manager", "hr", "admin"), order=60
    )
    add_home_panel(app, "learn/_home.html", order=20, data=home.learn_panel)
    register_job(
        app,
        "learn-overdue-reminders",
        send_overdue_reminders,
        every_minutes=60,
        label=_l("Remind people of overdue courses"),
    )
    register_job(
        app,
        "learn-recertification",
        send_recertification_notices,
        every_minutes=60,
        label=_l("Remind people of expiring certificates and re-assign expired ones"),
    )
    add_demo_step(app, "trainer.learn.demo:demo_learning")
