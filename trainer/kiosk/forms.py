from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length


class CodeForm(FlaskForm):
    code = StringField(
        _l("Your code"),
        validators=[
            DataRequired(message=_l("Type the code printed on your card.")),
            Length(max=40, message=_l("That is longer than any code. Check your card.")),
        ],
    )


class PrintCardsForm(FlaskForm):
    include_email = BooleanField(_l("Also print cards for people who have an email"))
