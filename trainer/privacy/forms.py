from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from trainer.audit import ACTIONS


class AuditFilterForm(FlaskForm):
    """The audit log's filters, read from the query string (a GET form needs no CSRF token)."""

    class Meta:
        csrf = False

    action = SelectField(_l("Action"), validators=[Optional()])
    actor = StringField(_l("Who (email contains)"), validators=[Optional(), Length(max=254)])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Sorted as the reader reads them, in their language.
        actions = sorted(ACTIONS.items(), key=lambda pair: str(pair[1]))
        self.action.choices = [("", _l("Any action")), *actions]


class EraseForm(FlaskForm):
    understood = BooleanField(
        _l("I understand that this removes this person's data for good and cannot be undone."),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
