"""Customer-care courses: catalogue, lessons, quizzes, certificates, assignments and reports."""

from flask import Blueprint, Flask

bp = Blueprint("learn", __name__, url_prefix="/learn")


def init_app(app: Flask) -> None:
    from trainer import content
    from trainer.demo import add_demo_step
    from trainer.learn import demo, home, services, views  # noqa: F401
    from trainer.nav import add_home_panel, add_nav
    from trainer.scheduler import register_job

    app.register_blueprint(bp)
    content.register_content_kind(app, "courses", services.check_courses,
                                  services.sync_courses, lint=services.lint_courses)
    add_nav(app, "Learning", "learn.index", order=20)
    add_nav(app, "Training reports", "learn.reports", roles=("manager", "hr", "admin"),
            order=60)
    add_home_panel(app, "learn/_home.html", order=20, data=home.learn_panel)
    register_job(app, "learn-overdue-reminders", services.send_overdue_reminders,
                 every_minutes=60, label="Remind people of overdue courses")
    register_job(app, "learn-recertification", services.send_recertification_notices,
                 every_minutes=60, label="Remind people of expiring certificates and "
                                         "re-assign expired ones")
    add_demo_step(app, demo.demo_learning)
