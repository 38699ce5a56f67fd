"""Quarterly pulse surveys: question bank, programmes, anonymous answers, results, ledger."""

from flask import Blueprint, Flask, g
from flask_babel import lazy_gettext as _l

bp = Blueprint("pulse", __name__, url_prefix="/pulse")


def init_app(app: Flask) -> None:
    from trainer.demo import add_demo_step
    from trainer.nav import add_home_panel, add_nav
    from trainer.pulse import home, jobs, plan_views, programme_views, views  # noqa: F401
    from trainer.pulse.drivers import DriverStatus
    from trainer.pulse.models import ActionStatus, CycleStatus, ItemKind
    from trainer.pulse.pool import reseal_pools
    from trainer.pulse.wording import comment_prompt_text, item_text, untranslated_note
    from trainer.scheduler import register_job
    from trainer.seal import add_resealer

    app.register_blueprint(bp)
    for state in (ActionStatus, CycleStatus, ItemKind, DriverStatus):  # for templates' comparisons
        app.add_template_global(state, state.__name__)
    for helper in (item_text, untranslated_note, comment_prompt_text):
        app.add_template_global(helper)
    app.teardown_request(lambda _exc: g.pop("item_texts", None))  # wording read per request
    add_nav(app, _l("Pulse"), "pulse.mine", order=30)
    add_nav(app, _l("Results"), "pulse.results_index", order=31)
    add_nav(app, _l("Surveys"), "pulse.programmes", roles=("hr", "admin"), order=70)
    add_home_panel(app, "pulse/_home.html", order=30, data=home.pulse_panel)
    for name, func, minutes, label in jobs.JOBS:
        register_job(app, name, func, every_minutes=minutes, label=label)
    add_demo_step(app, "trainer.pulse.demo:add_pulse_history")
    add_resealer(app, reseal_pools)
