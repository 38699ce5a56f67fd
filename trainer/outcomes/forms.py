from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, FloatField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from trainer.forms import MultiCheckboxField, finite
from trainer.outcomes.tokens import SCOPES
from trainer.outcomes.validation import DIRECTIONS


class ImportOutcomesForm(FlaskForm):
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file to import.")])
    dry_run = BooleanField("Only check the file; save nothing")


class MetricEditForm(FlaskForm):
    label = StringField("Label", validators=[DataRequired(), Length(max=100)])
    direction = SelectField("Which way is better", choices=list(DIRECTIONS.items()))
    min_value = FloatField("Lowest possible value", validators=[Optional(), finite])
    max_value = FloatField("Highest possible value", validators=[Optional(), finite])
    needs_n = BooleanField("Every value needs n (the number of customers behind it)", default=True)
    description = TextAreaField("Description", validators=[Optional(), Length(max=500)])


class MetricForm(MetricEditForm):
    code = StringField(
        "Code",
        validators=[
            DataRequired(),
            Regexp(
                r"^[a-z][a-z0-9_]{1,31}$",
                message="Use 2 to 32 lowercase letters, digits or '_', starting with a letter.",
            ),
        ],
    )


EXPIRY_CHOICES = [(0, "Never"), (30, "In 30 days"), (90, "In 90 days"), (365, "In a year")]


class TokenForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)])
    scopes = MultiCheckboxField(
        "Allowed to",
        choices=list(SCOPES.items()),
        validators=[DataRequired(message="Choose at least one scope.")],
    )
    unit_id = SelectField("Limited to unit", coerce=int)
    expires_in_days = SelectField("Expires", coerce=int, choices=EXPIRY_CHOICES)
