import click
from email_validator import EmailNotValidError, validate_email
from flask.cli import with_appcontext

from trainer.auth.models import User
from trainer.auth.services import MIN_PASSWORD_LENGTH, find_user, set_password
from trainer.db import db_session


@click.command("create-admin")
@with_appcontext
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.password_option(
    envvar="TRAINER_ADMIN_PASSWORD",
    help="The password; asked for when neither this nor the "
    "TRAINER_ADMIN_PASSWORD environment variable is given.",
)
def create_admin(email, name, password):
    """Create the first admin account (also HR) on a real install.

    Without a terminal (scripts, provisioning), pass --email and --name and put the password in
    TRAINER_ADMIN_PASSWORD, which keeps it out of the process list.
    """
    try:
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise click.UsageError(f"Email: {exc}") from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.UsageError(f"Password: use at least {MIN_PASSWORD_LENGTH} characters.")
    session = db_session()
    if find_user(email, session=session) is not None:
        raise click.UsageError(f"An account for {email} already exists.")
    user = User(email=email, name=name.strip() or email, roles="admin,hr")
    session.add(user)
    set_password(user, password, session=session)
    session.commit()
    click.echo(f"Admin account created for {email}.")
