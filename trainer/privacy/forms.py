from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from trainer.audit import ACTIONS


class AuditFilterForm(FlaskForm):
    """The audit log's filters, read from the query string (a GET form needs no CSRF token)."""

    class Meta:
        csrf = False

    action = SelectField(
        "Action",
        choices=[("", "Any action"), *sorted(ACTIONS.items(), key=lambda pair: pair[1])],
        validators=[Optional()],
    )
    actor = StringField("Who (email contains)", validators=[Optional(), Length(max=254)])
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])


class EraseForm(FlaskForm):
    understood = BooleanField(
        "I understand that this removes this person's data for good and cannot be undone.",
        validators=[DataRequired("Tick the box to confirm.")],
    )
