from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from trainer import audit
from trainer.db import db_session
from trainer.org.services import import_people


@click.command("people")
@with_appcontext
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--deactivate-missing", is_flag=True, help="Deactivate active people who are not in the file."
)
@click.option(
    "--force",
    is_flag=True,
    help="Allow deactivating more active people in one go than the "
    "PEOPLE_IMPORT_MAX_DEACTIVATE_SHARE setting (20% by default).",
)
@click.option("--dry-run", is_flag=True, help="Check the file and report, change nothing.")
def import_people_command(csv_file, deactivate_missing, force, dry_run):
    """Import people from CSV_FILE (email,name,unit_code,roles[,manager_of]).

    People without an email have an employee_number column instead (or as well)."""
    session = db_session()
    report = import_people(
        csv_file.read_bytes(), session=session, deactivate_missing=deactivate_missing, force=force
    )
    if not report.ok:
        session.rollback()
        for error in report.errors:
            click.echo(f"{csv_file.name}: {error}", err=True)
        raise click.exceptions.Exit(1)
    if dry_run:
        session.rollback()
    else:
        audit.record(
            "command line",
            "people.import",
            None,
            {**report.counts(), "file": csv_file.name},
            session=session,
        )
        session.commit()
    summary = _(
        "%(created)s created, %(updated)s updated, %(unchanged)s unchanged, "
        "%(reactivated)s reactivated, %(deactivated)s deactivated.",
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        reactivated=report.reactivated,
        deactivated=report.deactivated,
    )
    click.echo(_("Dry run, nothing saved: %(summary)s", summary=summary) if dry_run else summary)
