from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, SelectField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from trainer.auth.services import MIN_PASSWORD_LENGTH

FOLLOW_BROWSER = ""  # the settings form's value for "no language of my own"


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class RequestResetForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email()])


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=_l("Use at least %(num)d characters.", num=MIN_PASSWORD_LENGTH),
            ),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class SettingsForm(FlaskForm):
    """The person's own settings: for now, the language trainer speaks to them in."""

    language = RadioField(_l("Language"), default=FOLLOW_BROWSER)

    def __init__(self, languages: dict[str, str], *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Each language named in itself, so a person finds theirs whatever the page is in.
        self.language.choices = [(FOLLOW_BROWSER, _l("Follow my browser")), *languages.items()]


class SsoSettingsForm(FlaskForm):
    jit_unit_id = SelectField(_l("Unit for people who sign in for the first time"), coerce=int)
