from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, FloatField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from trainer.forms import MultiCheckboxField, finite
from trainer.outcomes.tokens import SCOPES
from trainer.outcomes.validation import DIRECTIONS


class ImportOutcomesForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired("Choose a CSV file to import.")])
    dry_run = BooleanField(_l("Only check the file; save nothing"))


class MetricEditForm(FlaskForm):
    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=100)])
    direction = SelectField(
        _l("Which way is better"), choices=[(code, _l(text)) for code, text in DIRECTIONS.items()]
    )
    min_value = FloatField(_l("Lowest possible value"), validators=[Optional(), finite])
    max_value = FloatField(_l("Highest possible value"), validators=[Optional(), finite])
    needs_n = BooleanField(
        _l("Every value needs n (the number of customers behind it)"), default=True
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=500)])


class MetricForm(MetricEditForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(),
            Regexp(
                r"^[a-z][a-z0-9_]{1,31}$",
                message=_l("Use 2 to 32 lowercase letters, digits or '_', starting with a letter."),
            ),
        ],
    )


EXPIRY_CHOICES = [
    (0, _l("Never")),
    (30, _l("In 30 days")),
    (90, _l("In 90 days")),
    (365, _l("In a year")),
]


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    scopes = MultiCheckboxField(
        _l("Allowed to"),
        choices=list(SCOPES.items()),
        validators=[DataRequired(message=_l("Choose at least one scope."))],
    )
    unit_id = SelectField(_l("Limited to unit"), coerce=int)
    expires_in_days = SelectField(_l("Expires"), coerce=int, choices=EXPIRY_CHOICES)
