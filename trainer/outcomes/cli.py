from pathlib import Path

import click
from flask_babel import gettext as _

from trainer import audit
from trainer.db import db_session
from trainer.outcomes.imports import import_csv, problems, size_error


@click.command("outcomes")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report, change nothing.")
def import_outcomes_command(csv_file, dry_run):
    """Import customer outcomes from CSV_FILE, all or nothing.

    Columns: unit_code,period,metric,value,n and optionally topbox,responses,invited.
    Importing the same file again changes nothing.
    """
    too_big = size_error(csv_file.stat().st_size)
    errors = [too_big] if too_big else []
    if not errors:
        session = db_session()
        report = import_csv(
            session=session,
            data=csv_file.read_bytes(),
            channel="cli",
            actor=csv_file.name,
            dry_run=dry_run,
        )
        errors = report.errors
        if report.ok and not dry_run:
            audit.record(
                "command line",
                "outcomes.import",
                None,
                {**report.counts(), "file": csv_file.name},
                session=session,
            )
            session.commit()
        else:
            session.rollback()
    for error in errors:
        click.echo(f"{csv_file.name}: {error}", err=True)
    if errors:
        click.echo(
            _(
                "%(file)s: %(problems)s; nothing was imported.",
                file=csv_file.name,
                problems=problems(len(errors)),
            ),
            err=True,
        )
        raise click.exceptions.Exit(1)
    click.echo(report.summary())
