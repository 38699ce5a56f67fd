"""Privacy duties: personal data export and erasure, the retention schedule, the audit log."""

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

bp = Blueprint("privacy", __name__, url_prefix="/privacy")


def init_app(app: Flask) -> None:
    from trainer.cli import people_cli
    from trainer.nav import add_nav
    from trainer.privacy import cli, services, views  # noqa: F401
    from trainer.scheduler import register_job

    app.register_blueprint(bp)
    people_cli.add_command(cli.export_command)
    people_cli.add_command(cli.erase_command)
    if "people" not in app.cli.commands:
        app.cli.add_command(people_cli)
    add_nav(app, _l("Audit log"), "privacy.audit_log", roles=("hr", "admin"), order=90)
    add_nav(app, _l("My data"), "privacy.mine", order=95)
    for config_key, purge in services.DEFAULT_RULES:
        services.add_retention_rule(app, config_key, purge)
    register_job(
        app,
        "privacy-retention",
        services.enforce_retention,
        every_minutes=60,
        label=_l("Delete data past its retention period"),
    )
