import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import ngettext

from trainer.db import db_session
from trainer.fixes.flags import gaming_flags
from trainer.fixes.rollups import refresh_rollups
from trainer.util import utcnow

fixes_cli = AppGroup("fixes", help="Fixes made on own authority.")


@fixes_cli.command("refresh")
def refresh_command():
    """Recount the fixes per unit and quarter now (the scheduler does this every 30 minutes)."""
    session = db_session()
    changed = refresh_rollups(session=session, now=utcnow())
    session.commit()
    click.echo(_("Fix rollups refreshed: %(num)d rows changed.", num=changed))


@fixes_cli.command("flags")
def flags_command():
    """Print the data-quality flags on units' fix logs (for HR)."""
    flags = gaming_flags(session=db_session())
    for flag in flags:
        click.echo(f"{flag['unit_code']} {flag['period']} {flag['signal']}: {flag['reason']}")
    click.echo(ngettext("%(num)d flag.", "%(num)d flags.", len(flags)))
