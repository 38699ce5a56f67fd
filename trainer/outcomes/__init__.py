"""Customer outcomes per unit and quarter: CSV upload and CLI import, custom metrics, and the
token-authenticated JSON API under /api/v1."""

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

bp = Blueprint("outcomes", __name__, url_prefix="/outcomes")


def init_app(app: Flask) -> None:
    from trainer.cli import import_cli
    from trainer.forms import csrf
    from trainer.nav import add_home_panel, add_nav
    from trainer.outcomes import cli, home, views  # noqa: F401
    from trainer.outcomes.api import api_bp
    from trainer.outcomes.models import TokenState
    from trainer.outcomes.validation import metric_name

    app.add_template_filter(metric_name, "metric_name")

    app.register_blueprint(bp)
    app.add_template_global(TokenState, "TokenState")
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # bearer tokens only: no cookie, so no cross-site request to forge
    import_cli.add_command(cli.import_outcomes_command)
    if "import" not in app.cli.commands:
        app.cli.add_command(import_cli)
    add_nav(app, _l("Outcomes"), "outcomes.browse", roles=("hr", "admin"), order=85)
    add_home_panel(
        app, "outcomes/_home.html", roles=("hr", "admin"), order=85, data=home.outcomes_panel
    )
