import click
from flask.cli import with_appcontext

from trainer import audit
from trainer.auth.services import find_person
from trainer.db import db_session
from trainer.privacy import services


def _person(email: str):
    person = find_person(email, session=db_session())
    if person is None:
        raise click.UsageError(f"No person has the email or employee number {email}.")
    return person


@click.command("export")
@with_appcontext
@click.argument("email")
@click.option(
    "--output",
    "-o",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="Write to this file instead of the screen.",
)
def export_command(email, output):
    """Print everything stored about the person with EMAIL (or employee number), as JSON
    (GDPR Article 15)."""
    session = db_session()
    person = _person(email)
    output.write(services.export_json(person, session=session) + "\n")
    audit.record("command line", "person.export", person, session=session)
    session.commit()


@click.command("erase")
@with_appcontext
@click.argument("email")
@click.option("--yes", is_flag=True, help="Erase without asking for confirmation.")
def erase_command(email, yes):
    """Erase the person with EMAIL (or employee number): remove their personal data for good
    (GDPR Article 17)."""
    session = db_session()
    person = _person(email)
    if not yes:
        click.confirm(
            f"Erase {person.name} <{person.identifier}> for good? This cannot be undone", abort=True
        )
    try:
        erasure = services.erase_person(person, session=session, by="command line")
    except services.PrivacyError as exc:
        session.rollback()
        raise click.UsageError(str(exc)) from None
    session.commit()
    click.echo(
        f"Erased {email}. Removed: "
        + ", ".join(f"{label} ({n})" for label, n in erasure.removed.items())
        + "."
    )
    for item in erasure.kept:
        click.echo(f"Kept: {item}.")
