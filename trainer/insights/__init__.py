"""The morale-versus-customer-outcomes dashboard: statistics, charts, exports, gaming flags."""

from functools import partial

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

bp = Blueprint("insights", __name__, url_prefix="/insights")


def init_app(app: Flask) -> None:
    from trainer.demo import add_demo_step, add_serve_step
    from trainer.insights import cli, store, training_rollup, views, words  # noqa: F401
    from trainer.insights.sources import Level, Status
    from trainer.nav import add_home_panel, add_nav
    from trainer.scheduler import register_job

    try:
        app.config["INSIGHTS_LEVEL"] = Level(app.config["INSIGHTS_LEVEL"])
    except ValueError:
        raise ValueError(
            f"INSIGHTS_LEVEL is {app.config['INSIGHTS_LEVEL']!r}; choose one of "
            + ", ".join(level.value for level in Level)
            + "."
        ) from None
    app.register_blueprint(bp)
    app.add_template_global(Status, "Status")
    app.add_template_global(words.level_words, "level_words")
    app.add_template_global(words.reason, "plain_reason")
    app.cli.add_command(cli.insights_cli)
    add_nav(app, _l("Insights"), "insights.index", roles=("manager", "hr", "admin"), order=40)
    add_home_panel(
        app, "insights/_home.html", roles=("manager", "hr", "admin"), order=40, data=lambda **_: {}
    )  # links only: the figures are core's team panel
    # Runs after the pulse step (features register in the order learn, scenarios, pulse,
    # outcomes, insights): customer history is generated from the released morale.
    add_demo_step(app, "trainer.insights.demo:add_customer_history")
    add_demo_step(app, "trainer.insights.demo:summarise_training")
    add_serve_step(app, "trainer.insights.demo:work_out_dashboards")
    register_job(
        app,
        "insights-training-rollup",
        training_rollup.refresh_training_rollups,
        every_minutes=training_rollup.TRAINING_REFRESH_MINUTES,
        label=_l("Summarise training for the dashboard"),
    )
    register_job(
        app,
        "insights-analyses",
        partial(store.refresh_analyses, level=app.config["INSIGHTS_LEVEL"]),
        every_minutes=store.ANALYSIS_REFRESH_MINUTES,
        label=_l("Work out the dashboard's statistics for new data"),
    )
