"""The org tree (company, region, site, team), people, managers and the people import."""

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

bp = Blueprint("org", __name__, url_prefix="/org")


def init_app(app: Flask) -> None:
    from trainer.cli import import_cli
    from trainer.nav import add_home_panel, add_nav
    from trainer.org import cli, home, services, views  # noqa: F401
    from trainer.org.models import UNIT_KIND_NAMES, ImportStatus
    from trainer.scheduler import register_job

    app.register_blueprint(bp)
    app.add_template_global(ImportStatus, "ImportStatus")
    app.add_template_global(UNIT_KIND_NAMES, "unit_kind_names")
    import_cli.add_command(cli.import_people_command)
    if "import" not in app.cli.commands:
        app.cli.add_command(import_cli)
    add_nav(app, _l("Org"), "org.tree", roles=("hr", "admin"), order=80)
    add_nav(app, _l("People"), "org.people", roles=("hr", "admin"), order=81)
    add_home_panel(app, "org/_home.html", roles=("hr", "admin"), order=80, data=home.org_panel)
    register_job(
        app,
        "org-people-imports",
        services.run_people_imports,
        every_minutes=1,
        label=_l("Import large people files"),
    )
