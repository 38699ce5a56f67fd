"""Fixes on own authority: employees log customer problems they put right, managers see
thresholded patterns beside matching training, HR sees data-quality flags, and the insights
dashboard relates the share fixed on the spot to morale and customer outcomes."""

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

bp = Blueprint("fixes", __name__, url_prefix="/fixes")


def init_app(app: Flask) -> None:
    from trainer.demo import add_demo_step
    from trainer.fixes import api, cli, jobs, views  # noqa: F401
    from trainer.nav import add_home_panel, add_nav
    from trainer.scheduler import register_job

    app.register_blueprint(bp)
    api.init_api(app)
    app.cli.add_command(cli.fixes_cli)
    add_nav(app, _l("Fixes"), "fixes.mine", order=25)
    add_home_panel(app, "fixes/_home.html", order=5, data=lambda **_: {})  # the button, links
    for name, func, minutes, label in jobs.JOBS:
        register_job(app, name, func, every_minutes=minutes, label=label)
    # Runs after the insights step: the demo fixes follow the released morale.
    add_demo_step(app, "trainer.fixes.demo:add_fix_history")
