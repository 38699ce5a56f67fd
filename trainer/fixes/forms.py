from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FloatField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from trainer.fixes.log import NOTE_LENGTH
from trainer.fixes.models import ACTIONS
from trainer.fixes.settings import MAX_GOODWILL
from trainer.forms import finite

LIMIT = f"{MAX_GOODWILL:,.0f}"


class LogFixForm(FlaskForm):
    problem = RadioField(
        _l("What was the problem?"),
        validators=[InputRequired(_l("Choose the problem, or 'Something else'."))],
    )
    action = RadioField(
        _l("What did you do?"),
        choices=list(ACTIONS.items()),
        validators=[InputRequired(_l("Choose what you did."))],
    )
    goodwill = FloatField(
        _l("Goodwill spent, if any"),
        render_kw={"inputmode": "decimal"},
        validators=[
            Optional(),
            finite,
            NumberRange(
                0,
                MAX_GOODWILL,
                _l("Enter an amount from 0 to %(max)s.", max=f"{MAX_GOODWILL:,.0f}"),
            ),
        ],
    )
    note = StringField(
        _l("Note (optional, one line)"), validators=[Optional(), Length(max=NOTE_LENGTH)]
    )


class SettingsForm(FlaskForm):
    unit_id = SelectField(_l("Unit"), coerce=int)
    unit_type = StringField(_l("Unit type"), validators=[Optional(), Length(max=40)])
    currency = StringField(
        _l("Currency"), default="EUR", validators=[DataRequired(), Length(min=3, max=3)]
    )
    goodwill_limit = FloatField(
        _l("Goodwill limit per fix"), validators=[Optional(), finite, NumberRange(0, MAX_GOODWILL)]
    )


class ProblemTypeForm(FlaskForm):
    unit_type = StringField(_l("Unit type"), validators=[Optional(), Length(max=40)])
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    label = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
