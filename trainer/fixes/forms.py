from flask_wtf import FlaskForm
from wtforms import FloatField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from trainer.fixes.log import NOTE_LENGTH
from trainer.fixes.models import ACTIONS
from trainer.fixes.settings import MAX_GOODWILL
from trainer.forms import finite


class LogFixForm(FlaskForm):
    problem = RadioField(
        "What was the problem?",
        validators=[InputRequired("Choose the problem, or 'Something else'.")],
    )
    action = RadioField(
        "What did you do?",
        choices=list(ACTIONS.items()),
        validators=[InputRequired("Choose what you did.")],
    )
    goodwill = FloatField(
        "Goodwill spent, if any",
        render_kw={"inputmode": "decimal"},
        validators=[
            Optional(),
            finite,
            NumberRange(0, MAX_GOODWILL, f"Enter an amount from 0 to {MAX_GOODWILL:,.0f}."),
        ],
    )
    note = StringField(
        "Note (optional, one line)", validators=[Optional(), Length(max=NOTE_LENGTH)]
    )


class SettingsForm(FlaskForm):
    unit_id = SelectField("Unit", coerce=int)
    unit_type = StringField("Unit type", validators=[Optional(), Length(max=40)])
    currency = StringField(
        "Currency", default="EUR", validators=[DataRequired(), Length(min=3, max=3)]
    )
    goodwill_limit = FloatField(
        "Goodwill limit per fix", validators=[Optional(), finite, NumberRange(0, MAX_GOODWILL)]
    )


class ProblemTypeForm(FlaskForm):
    unit_type = StringField("Unit type", validators=[Optional(), Length(max=40)])
    code = StringField("Code", validators=[DataRequired(), Length(max=40)])
    label = StringField("Name", validators=[DataRequired(), Length(max=100)])
