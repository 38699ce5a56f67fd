from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange
from wtforms.widgets import HiddenInput

from trainer.forms import WholeNumberField
from trainer.scenarios.models import FULL_PLAY_MODES


class StartForm(FlaskForm):
    """Start or resume a play; the pressed button sends the mode."""

    mode = StringField(_l("Mode"), validators=[InputRequired(), AnyOf(FULL_PLAY_MODES)])


class ChooseForm(FlaskForm):
    """One decision: each choice is a submit button named `choice` carrying the choice's id.

    The id, not a position: choices are shown in an order shuffled per play.

    `node` and `step` say which decision the player was looking at, so a repeated or stale
    post can be told apart from a new one.
    """

    choice = StringField(_l("Choice"), validators=[InputRequired(), Length(max=100)])
    node = HiddenField(_l("Decision"), validators=[InputRequired()])
    step = WholeNumberField(
        _l("Step"), widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=0)]
    )


class ReserveForm(FlaskForm):
    choice = StringField(_l("Choice"), validators=[InputRequired(), Length(max=100)])
    node = HiddenField(_l("Decision"), validators=[InputRequired()])
