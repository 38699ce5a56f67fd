"""Empowerment scenarios: the branching player, spaced re-serving and choice reports."""

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

bp = Blueprint("scenarios", __name__, url_prefix="/scenarios")


def init_app(app: Flask) -> None:
    from trainer import content
    from trainer.demo import add_demo_step
    from trainer.nav import add_home_panel, add_nav
    from trainer.scenarios import home, sync, views  # noqa: F401
    from trainer.scenarios.models import PlayMode

    app.register_blueprint(bp)
    app.add_template_global(PlayMode, "PlayMode")
    content.register_content_kind(
        app,
        "scenarios",
        sync.check_scenarios,
        sync.sync_scenarios,
        lint=sync.lint_scenarios,
    )
    add_nav(app, _l("Scenarios"), "scenarios.library", order=30)
    add_nav(
        app,
        _l("Scenario reports"),
        "scenarios.reports_index",
        roles=("manager", "hr", "admin"),
        order=60,
    )
    add_home_panel(
        app, "scenarios/_home.html", roles=("employee",), order=30, data=home.scenario_panel
    )
    add_demo_step(app, "trainer.scenarios.demo:demo_step")
